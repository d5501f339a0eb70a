"""The results-page tooling: tools/experiments/run_results.py runs a real
pretrain -> finetune chain (tiny ViT, digits) and records it; then
tools/plot_results.py draws the page's plots from that record."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'experiments'))
import config_paths  # noqa: E402
import results_grid  # noqa: E402
import run_results  # noqa: E402

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def shared_data():
    return (os.environ.get('EASYMAE_SHARED_DATA')
            or osp.join(osp.dirname(ROOT), 'shared', 'data'))


def tool(*args, check=True):
    proc = subprocess.run([sys.executable, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.mark.extended
@pytest.mark.slow(seconds=80)
def test_smoke_grid_runs_records_and_plots(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'res' / 'results.json'
    args = ['tools/experiments/run_results.py', '--grid', 'digits-smoke',
            '--only', 'ft_mae', 'ft_scratch', '--jobs', '2',
            '--work-dir', str(work), '--out', str(out)]
    first = tool(*args).stdout
    assert first.count('[start]') == 3 and first.count('[done]') == 3
    steps = json.loads(out.read_text())['steps']
    assert sorted(steps) == ['ft_mae', 'ft_scratch', 'pt']

    pt, ft, scratch = steps['pt'], steps['ft_mae'], steps['ft_scratch']
    for s in (pt, ft, scratch):
        assert s['returncode'] == 0 and s['wall_s'] > 0
        assert s['command'].startswith('python tools/train.py ' + s['config'])
        assert osp.isfile(osp.join(ROOT, s['config']))
    # the pretrain's loss curve is mmengine's own log, every iteration
    assert len(pt['loss_curve']) == 4 and np.isfinite(pt['final_loss'])
    # the MAE finetune starts from the pretrain step's final checkpoint,
    # the scratch one from nothing
    pt_ckpt = str(work / 'pt' / 'epoch_2.pth')
    assert f'model.backbone.init_cfg.checkpoint={pt_ckpt}' in ft['command']
    assert 'init_cfg' not in scratch['command']
    for s in (ft, scratch):
        assert len(s['val_top1_curve']) == 2
        assert s['top1'] == s['val_top1_curve'][-1][1]
        assert 0.0 <= s['top1'] <= s['top5'] <= 100.0
    # the finetune really loaded the pretrained encoder
    log = (work / 'ft_mae' / 'stdout.log').read_text()
    assert 'loaded pretrained weights' in log

    # finished steps are not run again
    again = tool(*args).stdout
    assert '[start]' not in again
    assert json.loads(out.read_text())['steps']['ft_mae'] == ft

    plots = tool('tools/plot_results.py', str(out)).stdout
    for name in ('pretrain_loss.png', 'finetune_top1.png'):
        png = out.parent / name
        assert png.read_bytes()[:8] == PNG_MAGIC, name
    # one mask ratio is no curve: the plot is left out, and says so
    assert not (out.parent / 'mask_ratio.png').exists()
    assert 'no runs for' in plots and 'mask_ratio.png' in plots
    assert f"| ft_mae | MAE-pretrained, seed 0 | top-1 {ft['top1']:.2f}%" \
        in plots


def test_mask_ratio_plot_from_recorded_runs(tmp_path):
    # a results file as run_results.py writes it, two mask ratios x seeds
    def ft(ratio, seed, top1):
        return {'kind': 'finetune', 'command': 'python tools/train.py c.py',
                'config': 'c.py', 'wall_s': 60.0, 'top1': top1,
                'meta': {'mask_ratio': ratio, 'seed': seed},
                'val_top1_curve': [[1, top1 - 5], [2, top1]]}
    steps = {'a': ft(0.75, 0, 50.0), 'b': ft(0.75, 1, 52.0),
             'c': ft(0.5, 0, 40.0),
             'd': {'kind': 'finetune', 'command': 'x', 'config': 'c.py',
                   'wall_s': 1.0, 'top1': 99.0},  # no mask ratio: not a point
             # partial finetunes: top-1 against the blocks trained
             'k0': {'kind': 'finetune', 'command': 'x', 'config': 'c.py',
                    'top1': 30.0, 'meta': {'train_last_blocks': 0}},
             'k2': {'kind': 'finetune', 'command': 'x', 'config': 'c.py',
                    'top1': 45.0, 'meta': {'train_last_blocks': 2}}}
    path = tmp_path / 'results.json'
    path.write_text(json.dumps({'grid': 'x', 'steps': steps}))
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    import plot_results
    assert plot_results.mask_ratio_points(steps) == [
        (0.5, [40.0]), (0.75, [50.0, 52.0])]
    assert plot_results.meta_points(steps, 'train_last_blocks') == [
        (0.0, [30.0]), (2.0, [45.0])]
    plot_results.main([str(path)])
    assert (tmp_path / 'mask_ratio.png').read_bytes()[:8] == PNG_MAGIC
    assert (tmp_path / 'partial_finetune.png').read_bytes()[:8] == PNG_MAGIC
    assert not (tmp_path / 'pretrain_loss.png').exists()
    # per-epoch curves are drawn for the MAE-vs-scratch groups only
    assert not (tmp_path / 'finetune_top1.png').exists()
    assert not (tmp_path / 'first_blocks.png').exists()


def test_first_blocks_plot_draws_one_line_per_method(tmp_path):
    def ft(method, blocks, top1):
        return {'kind': 'finetune', 'command': 'x', 'config': 'c.py',
                'top1': top1, 'meta': {'method': method, 'blocks': blocks}}
    steps = {'m1': ft('mae', 1, 30.0), 'm6': ft('mae', 6, 40.0),
             'c1': ft('mocov3', 1, 28.0), 'c6': ft('mocov3', 6, 33.0),
             'd6': ft('dino', 6, 31.0)}  # one point: no line
    path = tmp_path / 'study.json'
    path.write_text(json.dumps({'grid': 'lite-study', 'steps': steps}))
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    import plot_results
    plot_results.main([str(path), '--plots', 'first_blocks.png',
                       '--out-dir', str(tmp_path / 'out')])
    assert (tmp_path / 'out' / 'first_blocks.png').read_bytes()[:8] == \
        PNG_MAGIC
    assert sorted(os.listdir(tmp_path / 'out')) == ['first_blocks.png']


def test_plot_refuses_a_file_that_is_not_a_results_record(tmp_path):
    bad = tmp_path / 'other.json'
    bad.write_text(json.dumps({'state_dict': {}}))
    proc = tool('tools/plot_results.py', str(bad), check=False)
    assert proc.returncode != 0
    assert 'not a run_results.py file' in proc.stderr
    proc = tool('tools/plot_results.py', str(tmp_path / 'none.json'),
                check=False)
    assert proc.returncode != 0 and 'no results file' in proc.stderr


def test_unknown_step_name_is_a_clear_error():
    proc = tool('tools/experiments/run_results.py', '--only', 'no_such_run',
                '--list', check=False)
    assert proc.returncode != 0 and 'matches no step' in proc.stderr


def test_cifar10_grid_lists_main_comparison_first():
    names = [s.name for s in results_grid.grid_cifar10([0, 1])]
    assert names[:4] == ['mae_vit-tiny6-p4_1xb128-20e', 'ft5e_mae-ep10',
                         'ft5e_mae', 'ft5e_scratch']
    assert 'ft10e_scratch_seed1' in names and 'ft5e_scratch_seed1' in names
    # a second seed repeats the recipe and ablation finetunes too, on the
    # one MAE pretraining of each (those are not repeated)
    assert {'ft5e_mae_cls-token_seed1', 'ft5e_mae_mask0.9_seed1'} <= set(names)
    assert not any(n.startswith('mae_vit') and n.endswith('_seed1')
                   for n in names)
    # pretraining seeds are rows of their own ('_pseed1'), whatever --seeds
    assert {'mae_vit-tiny6-p4_1xb128-20e_pseed1', 'ft5e_mae_pseed1'} <= {
        s.name for s in results_grid.grid_cifar10([0])}
    # a snapshot-initialised step does not drag its pretrain in again
    picked = run_results.select(results_grid.grid_cifar10([0]),
                                ['ft5e_mae-ep10', 'ft5e_scratch'])
    assert [s.name for s in picked] == ['ft5e_mae-ep10', 'ft5e_scratch']
    picked = run_results.select(results_grid.grid_cifar10([0]), ['ft10e_mae'])
    assert [s.name for s in picked] == ['mae_vit-tiny6-p4_1xb128-20e',
                                        'ft10e_mae']
    for s in results_grid.grid_cifar10([0]):
        assert osp.isfile(osp.join(ROOT, s.config)), s.config
        if s.init_from:
            assert s.init_from in names


def test_lite_study_commands_pick_the_encoder_and_the_data(tmp_path):
    steps = {s.name: s for s in results_grid.grid_lite_study([0])}
    for s in steps.values():
        assert osp.isfile(osp.join(ROOT, s.config)), s.config
    work = tmp_path / 'work'
    for pre in ('study_dino-1e', 'study_supervised-5e', 'study_mocov3-2e'):
        (work / pre).mkdir(parents=True)
        (work / pre / 'last_checkpoint').write_text(f'{work}/{pre}/e.pth')
    # kNN runs the tool on the checkpoint as it is: DINO's teacher, the
    # bank and the scored images from the dev folders
    cmd = run_results.command(steps['study_knn_dino'], str(work), '/d', False)
    assert cmd[:3] == ['tools/knn_eval.py', config_paths.KNN,
                       f'{work}/study_dino-1e/e.pth']
    assert cmd[3:5] == ['--prefix', 'teacher.backbone.']
    assert set(cmd[6:]) == {
        'knn_eval.train_dataloader.dataset.data_source.root=/d/train',
        'knn_eval.val_dataloader.dataset.data_source.root=/d/val'}
    # the supervised classifier is read as it pools (its norm is fc_norm)
    cmd = run_results.command(steps['study_knn_supervised'], str(work), '/d',
                              False)
    assert cmd[2] == f'{work}/study_supervised-5e/e.pth'
    assert 'model.backbone.global_pool=avg' in cmd
    # the linear probe freezes the same encoder, read the same way
    cmd = run_results.command(steps['study_linear_dino'], str(work), '/d',
                              False)
    assert cmd[1] == config_paths.LINEAR
    assert 'model.backbone.init_cfg.prefix=teacher.backbone.' in cmd
    cmd = run_results.command(steps['study_linear_supervised'], str(work),
                              '/d', False)
    assert 'model.backbone.global_pool=avg' in cmd
    # finetunes load the same encoder; the 1,000-image rows keep 100 per
    # class; the digits rows keep their own data
    cmd = run_results.command(steps['study_ft1k_dino'], str(work), '/d',
                              False)
    assert 'model.backbone.init_cfg.prefix=teacher.backbone.' in cmd
    assert 'train_dataloader.dataset.data_source.per_class=100' in cmd
    assert 'train_dataloader.dataset.data_source.root=/d/train' in cmd
    cmd = run_results.command(steps['study_digits_supervised'], str(work),
                              '/d', False)
    assert not any('/d/' in c for c in cmd)
    assert f'model.backbone.init_cfg.checkpoint={work}/study_supervised-5e/' \
        'e.pth' in cmd
    # keep-the-first-k: a shallower encoder from the deeper checkpoint
    cmd = run_results.command(steps['study_ft5e_mocov3_first2'], str(work),
                              '/d', False)
    assert {'model.backbone.depth=2',
            'model.backbone.init_cfg.keep_first_blocks=True'} <= set(cmd)
    # and its control: the same depth from random init, nothing loaded
    cmd = run_results.command(steps['study_ft5e_scratch_first2'], str(work),
                              '/d', False)
    assert 'model.backbone.depth=2' in cmd
    assert not any('init_cfg' in c for c in cmd)
    # the tool's last stdout line is the record
    (work / 'k').mkdir()
    (work / 'k' / 'stdout.log').write_text(
        'kNN (k=20, T=0.07) of e.pth: top1: 41.50, top5: 88.00\n'
        '{"top1": 41.5, "top5": 88.0}\n')
    assert run_results.summarise(steps['study_knn_dino'], str(work / 'k')) \
        == {'top1': 41.5, 'top5': 88.0}


@pytest.mark.slow
def test_cifar10_dev_is_unpacked_once_and_verified(tmp_path, monkeypatch):
    tar = osp.join(shared_data(), run_results.DEV_TAR)
    if not osp.isfile(tar):
        pytest.skip(f'shared data not found ({tar}); set EASYMAE_SHARED_DATA')
    monkeypatch.setenv('EASYMAE_SHARED_DATA', shared_data())
    root = run_results.ensure_cifar10_dev(str(tmp_path))
    assert run_results.count_images(osp.join(root, 'train')) == 10000
    assert run_results.count_images(osp.join(root, 'val')) == 2000
    marker = osp.join(root, '.complete')
    stamp = os.stat(marker).st_mtime_ns
    assert run_results.ensure_cifar10_dev(str(tmp_path)) == root
    assert os.stat(marker).st_mtime_ns == stamp  # not unpacked again
    assert [d for d in os.listdir(tmp_path) if '.tmp' in d] == []


def test_a_corrupt_archive_is_refused_by_name(tmp_path, monkeypatch):
    data = tmp_path / 'shared'
    (data / 'cifar10').mkdir(parents=True)
    bad = data / run_results.DEV_TAR
    bad.write_bytes(b'not the CIFAR-10 archive')
    monkeypatch.setenv('EASYMAE_SHARED_DATA', str(data))
    with pytest.raises(SystemExit, match='sha256') as err:
        run_results.ensure_cifar10_dev(str(tmp_path / 'cache'))
    assert str(bad) in str(err.value)
    assert not (tmp_path / 'cache' / 'cifar10_dev').exists()


def test_randaugment_survives_posterize_to_zero_bits():
    # rand-m10-mstd0.5-inc1 (the CIFAR finetune recipe) reaches magnitude 10,
    # where 'PosterizeIncreasing' keeps 0 bits; Pillow >= 11 raises on that
    from PIL import Image

    from easymae.datasets.transforms import RandAugment
    from easymae.datasets.transforms.rand_augment import _posterize_any_bits
    t = RandAugment('rand-m10-mstd0.5-inc1', img_size=32)
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), np.uint8)
    for _ in range(300):
        out = t({'img': img.copy()})['img']
        assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    black = _posterize_any_bits(Image.fromarray(img), 0)
    assert not np.asarray(black).any()
    two = np.asarray(_posterize_any_bits(Image.fromarray(img), 2))
    assert np.array_equal(two, img & 0b11000000)


def test_a_stopped_run_is_recorded_as_incomplete(tmp_path):
    # a pretrain stopped midway leaves its command and mmengine's scalars,
    # but no step.json: it is collected, marked, never passed as finished
    step = results_grid.grid_cifar10([0])[0]
    wd = tmp_path / step.name
    (wd / '20260101_000000' / 'vis_data').mkdir(parents=True)
    (wd / 'command.txt').write_text('python tools/train.py x.py\n')
    (wd / '20260101_000000' / 'vis_data' / 'scalars.json').write_text(
        '\n'.join(json.dumps({'iter': i, 'epoch': 1, 'loss': 1.0 / i})
                  for i in (10, 20, 30)) + '\n')
    out = tmp_path / 'results.json'
    run_results.write_results(str(out), [step], str(tmp_path), 'cifar10')
    rec = json.loads(out.read_text())['steps'][step.name]
    assert rec['status'] == 'incomplete'
    assert rec['command'] == 'python tools/train.py x.py'
    assert rec["loss_curve"] == [[i, 1.0 / i] for i in (10, 20, 30)]
    assert 'returncode' not in rec and 'top1' not in rec


def test_a_restarted_run_never_hides_the_finished_record(tmp_path):
    # the step finished once (its record is in the file, its work dir was
    # cleaned); a rerun that has logged a few iterations is collected only
    # once it finishes, until then the finished record stays
    step = results_grid.grid_cifar10([0])[0]
    out = tmp_path / 'results.json'
    out.write_text(json.dumps({'grid': 'cifar10', 'steps': {step.name: {
        'command': 'python tools/train.py x.py', 'final_loss': 0.25}}}))
    wd = tmp_path / step.name
    (wd / '20260101_000000' / 'vis_data').mkdir(parents=True)
    (wd / 'command.txt').write_text('python tools/train.py x.py\n')
    (wd / '20260101_000000' / 'vis_data' / 'scalars.json').write_text(
        json.dumps({'iter': 10, 'epoch': 1, 'loss': 2.0}) + '\n')
    run_results.write_results(str(out), [step], str(tmp_path), 'cifar10')
    rec = json.loads(out.read_text())['steps'][step.name]
    assert rec['final_loss'] == 0.25 and 'status' not in rec
    (wd / 'step.json').write_text(json.dumps({'final_loss': 0.5}))
    run_results.write_results(str(out), [step], str(tmp_path), 'cifar10')
    assert json.loads(out.read_text())['steps'][step.name][
        'final_loss'] == 0.5


def test_collecting_keeps_records_whose_work_dirs_are_gone(tmp_path):
    # seed 0 ran on another machine (its work dirs are not here); an
    # invocation for seed 1 adds its records without erasing seed 0's
    seed0, seed1 = (next(x for x in results_grid.grid_cifar10([s])
                         if x.name in ('ft5e_mae', 'ft5e_mae_seed1'))
                    for s in (0, 1))
    assert seed0.name != seed1.name
    out = tmp_path / 'results.json'
    out.write_text(json.dumps({'grid': 'cifar10', 'steps': {
        'gone_step': {'command': 'python tools/train.py old.py',
                      'top1': 12.5}}}))
    wd = tmp_path / 'work' / seed1.name
    wd.mkdir(parents=True)
    (wd / 'step.json').write_text(json.dumps({'final_loss': 0.5}))
    run_results.write_results(str(out), [seed0, seed1],
                              str(tmp_path / 'work'), 'cifar10')
    steps = json.loads(out.read_text())['steps']
    assert steps['gone_step']['top1'] == 12.5
    assert steps[seed1.name]['final_loss'] == 0.5
    assert steps[seed1.name]['label'] == seed1.label
    assert seed0.name not in steps  # never ran anywhere: nothing invented
    with pytest.raises(SystemExit, match='lite-study'):
        run_results.write_results(str(out), [seed1], str(tmp_path / 'work'),
                                  'lite-study')


def test_snapshot_is_copied_when_its_epoch_is_written(tmp_path):
    step = next(s for s in results_grid.grid_cifar10([0])
                if s.name == 'ft5e_mae-ep10')
    assert not run_results.take_snapshot(str(tmp_path), step)
    pre = tmp_path / step.init_from
    pre.mkdir()
    (pre / 'epoch_10.pth').write_bytes(b'weights of epoch 10')
    assert run_results.take_snapshot(str(tmp_path), step)
    (pre / 'epoch_10.pth').unlink()  # rotated away later: the copy stays
    copy = run_results.snapshot(str(tmp_path), step.init_from, 10)
    assert open(copy, 'rb').read() == b'weights of epoch 10'
    assert run_results.take_snapshot(str(tmp_path), step)
    cmd = run_results.command(step, str(tmp_path), None, amp=True)
    assert f'model.backbone.init_cfg.checkpoint={copy}' in cmd


def test_stopped_step_resumes_and_its_two_logs_merge(tmp_path):
    step = results_grid.Step('pt', 'pretrain', results_grid.MAE_PT)
    work = tmp_path / 'work'
    cmd = run_results.command(step, str(work), None, amp=True)
    assert '--resume' not in cmd  # nothing to resume yet
    # a run stopped after iteration 3 and resumed from its iteration-2
    # checkpoint: two timestamped log folders that overlap at iteration 3
    logs = {'20261123_010000': [1, 2, 3], '20261123_020000': [3, 4]}
    for resumed, (stamp, iters) in enumerate(logs.items()):
        folder = work / 'pt' / stamp / 'vis_data'
        folder.mkdir(parents=True)
        with open(folder / 'scalars.json', 'w') as f:
            for i in iters:
                loss = 10.0 - i - 0.5 * resumed
                f.write(json.dumps({'iter': i, 'step': i, 'loss': loss})
                        + '\n')
    (work / 'pt' / 'last_checkpoint').write_text('epoch_1.pth')
    cmd = run_results.command(step, str(work), None, amp=True)
    assert cmd[-1] == '--resume'
    curve = run_results.summarise(step, str(work / 'pt'))['loss_curve']
    # every iteration once; the resumed run's iteration 3 wins
    assert curve == [[1, 9.0], [2, 8.0], [3, 6.5], [4, 5.5]]


def test_mae_lite_student_starts_its_teacher_from_the_teacher_step(tmp_path):
    steps = {s.name: s for s in results_grid.grid_cifar10([0])}
    student = steps['mae-distill_20e']
    teacher_dir = tmp_path / student.init_from
    teacher_dir.mkdir()
    (teacher_dir / 'last_checkpoint').write_text('T/epoch_20.pth')
    cmd = run_results.command(student, str(tmp_path), None, amp=True)
    assert 'model.teacher.init_cfg.checkpoint=T/epoch_20.pth' in cmd
    assert not any(c.startswith('model.backbone.init_cfg') for c in cmd)
    # and the finetune after it initialises the backbone, as every other
    assert steps['ft5e_mae-distill'].init_key == 'model.backbone.init_cfg'


def test_flip_and_simmim_runs_stay_out_of_the_mae_plots(tmp_path):
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    import plot_results

    def pretrain(config, loss, **extra):
        return dict({'kind': 'pretrain', 'config': config, 'command': 'x',
                     'loss_curve': [[1, loss], [2, loss / 2]],
                     'final_loss': loss / 2}, **extra)
    steps = {'flip': pretrain('configs/experiments/flip_a.py', 5.0,
                              top1=30.0, val_top1_curve=[[12, 30.0]]),
             'simmim': pretrain('configs/experiments/simmim_b.py', 0.6)}
    assert not plot_results.plot_pretrain_loss(steps, tmp_path / 'a.png')
    assert not plot_results.plot_finetune_top1(steps, tmp_path / 'b.png')
    steps['mae'] = pretrain('configs/experiments/mae_c.py', 0.9)
    assert plot_results.plot_pretrain_loss(steps, tmp_path / 'a.png')


def test_vit_bert_students_read_both_teachers_after_they_finish(tmp_path):
    steps = results_grid.grid_vit_bert([0])
    by_name = {s.name: s for s in steps}
    kd = by_name['vb_kd-gm_beta0.3']
    # picking one student brings its teachers along
    picked = {s.name for s in run_results.select(steps, ['vb_digits_kd'])}
    assert picked == {'vb_digits_kd', 'vb_kd', 'vb_teacher_image',
                      'vb_teacher_text'}
    assert run_results.needs(kd) == ['vb_teacher_image', 'vb_teacher_text']
    assert run_results.needs(by_name['vb_joint']) == []
    for name in ('vb_teacher_image', 'vb_teacher_text'):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'last_checkpoint').write_text(f'{name}/last.pth')
    cmd = run_results.command(kd, str(tmp_path), None, amp=False)
    assert 'model.image_teacher.checkpoint=vb_teacher_image/last.pth' in cmd
    assert 'model.text_teacher.checkpoint=vb_teacher_text/last.pth' in cmd
    assert 'optim_wrapper.beta=0.3' in cmd
    # every text finetune reads the one vocabulary the teachers and
    # students were trained with (not its config's default path)
    for s in steps:
        if 'sst2' in s.config:
            assert f'model.vocab_file={config_paths.VOCAB}' in s.opts, s.name
    # the joint baseline distils from nobody
    cmd = run_results.command(by_name['vb_joint'], str(tmp_path), None,
                              amp=False)
    assert not any('teacher' in c for c in cmd)


@pytest.mark.slow
def test_vit_bert_grid_options_pass_the_config_check():
    import argparse

    from mmengine.config import DictAction

    from easymae.apis import load_config
    from easymae.config_check import check_config_in_scope
    parser = argparse.ArgumentParser()  # as tools/train.py reads them
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    seen = set()
    for step in results_grid.grid_vit_bert([1]):
        opts = list(step.opts) + [f'{key}.checkpoint=x.pth'
                                  for key, _ in step.also_from]
        if step.init_from:
            opts.append(f'{step.init_key}.checkpoint=x.pth')
        if (step.config, tuple(opts)) in seen:
            continue
        seen.add((step.config, tuple(opts)))
        options = parser.parse_args(['--cfg-options', *opts]).cfg_options \
            if opts else None
        cfg = load_config(osp.join(ROOT, step.config), options)
        check_config_in_scope(cfg)
        if step.name.startswith('vb_kd-gm'):  # the mask schedule fits 800
            ow = cfg.optim_wrapper
            updates = round(ow.beta / ow.delta)
            assert ow.start_iter + (updates - 1) * ow.interval < \
                cfg.train_cfg.max_iters, step.name


def test_an_iteration_based_run_keeps_every_validation(tmp_path):
    # mmengine logs each validation of an iteration-based loop as step 0;
    # the curve keeps them all, at the iteration each one followed
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    rows = []
    for it, top1 in ((31, 50.9), (62, 55.0), (93, 58.1)):
        rows.append({'iter': it, 'epoch': 1, 'loss': 1.0 / it})
        rows.append({'accuracy/top1': top1, 'step': 0})
    (vis / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in rows) + '\n')
    step = results_grid.grid_cifar10([0])[1]
    out = run_results.summarise(step, str(tmp_path))
    assert out['val_top1_curve'] == [[31, 50.9], [62, 55.0], [93, 58.1]]
    assert out['top1'] == 58.1
