"""The main job's console: one live progress line per training step fed by
mmengine's log lines, the log files kept, and a closing summary naming the
two top-1s and the reconstruction picture."""
import importlib.util
import io
import json
import os.path as osp
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# lines as mmengine 0.10 writes them during a digits finetune
LINES = [
    '12/02 08:59:28 - mmengine - INFO - Checkpoints will be saved to w.\n',
    '12/02 08:59:41 - mmengine - INFO - Epoch(train) [1][10/22]  base_lr: '
    '6.4371e-04 lr: 1.6093e-04  eta: 0:00:51  time: 0.9029  data_time: '
    '0.0096  loss: 1.5564  bad_images_skipped: 0\n',
    '12/02 08:59:43 - mmengine - INFO - Epoch(train) [1][20/22]  base_lr: '
    '1.3573e-03 lr: 3.3932e-04  eta: 0:00:41  time: 0.1902  data_time: '
    '0.0097  loss: 0.8539  bad_images_skipped: 0\n',
    '12/02 08:59:45 - mmengine - INFO - Epoch(val) [1][3/3]    '
    'accuracy/top1: 57.3816  accuracy/top5: 91.0864  data_time: 0.0040  '
    'time: 0.0500\n',
    '12/02 08:59:47 - mmengine - INFO - Epoch(train) [2][10/22]  base_lr: '
    '1.3573e-03 lr: 3.3932e-04  eta: 0:00:20  time: 0.1902  data_time: '
    '0.0097  loss: 0.6012  bad_images_skipped: 0\n',
]


def load_main_job():
    spec = importlib.util.spec_from_file_location(
        'main_job_under_test', osp.join(REPO, 'tools', 'main_job.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_progress_line_follows_the_log():
    out = io.StringIO()
    progress = load_main_job().LogProgress('finetune', max_epochs=3,
                                           file=out)
    progress.feed(LINES[0])
    assert progress.bar is None and out.getvalue() == ''  # nothing yet
    for line in LINES[1:]:
        progress.feed(line)
    bar = progress.bar
    assert bar.total == 66 and bar.n == 32  # 3 epochs x 22; epoch 2, it 10
    assert progress.facts == {'epoch': '2/3', 'loss': '0.6012',
                              'eta': '0:00:20', 'val top-1': '57.3816'}
    progress.close(finished=True)
    text = out.getvalue()
    assert 'finetune' in text and 'loss 0.6012' in text
    assert 'val top-1 57.3816' in text and 'eta 0:00:20' in text
    assert '66/66' in text  # a finished run ends full


def test_progress_of_a_failed_run_stays_where_it_stopped():
    out = io.StringIO()
    progress = load_main_job().LogProgress('pretrain', 2, file=out)
    progress.feed(LINES[1])
    progress.close(finished=False)
    assert progress.bar.n == 10
    assert '44/44' not in out.getvalue()


@pytest.mark.slow(seconds=250)
def test_main_job_console(tmp_path):
    work = tmp_path / 'job'
    proc = subprocess.run(
        [sys.executable, 'tools/main_job.py', '--work-dir', str(work),
         '--pretrain-epochs', '1', '--finetune-epochs', '1'],
        cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for tag, total in (('pretrain', 22), ('finetune', 22),
                       ('scratch', 22)):
        assert re.search(rf'{tag}\s+100%\|.*\| {total}/{total} it, '
                         r'epoch 1/1, loss [\d.]+', out), tag
    assert re.search(r'MAE-pretrained\s+top-1\s+[\d.]+%', out)
    assert re.search(r'from scratch\s+top-1\s+[\d.]+%', out)
    # the top-1s printed (and kept in results.json) are what each
    # finetune's last validation logged
    results = json.loads((work / 'results.json').read_text())
    for name, tag in (('MAE-pretrained', 'finetune'),
                      ('from scratch', 'scratch')):
        printed = re.search(rf'{name}\s+top-1\s+([\d.]+)%', out).group(1)
        logged = re.findall(r'Epoch\(val\) \[1\].*?accuracy/top1: ([\d.]+)',
                            (work / f'{tag}.log').read_text())
        assert logged and float(printed) == pytest.approx(
            float(logged[-1]), abs=0.006), (name, printed, logged)
        assert results[name]['accuracy/top1'] == pytest.approx(
            float(logged[-1]), abs=1e-4)
    picture = re.search(r'Reconstructions .*: (\S+\.png)', out).group(1)
    assert osp.isfile(picture) and picture.startswith(str(work))
    for log in ('pretrain', 'visualize', 'convert', 'finetune', 'scratch'):
        text = (work / f'{log}.log').read_text()
        assert text, log
    # the full mmengine log is in the file, not on the console
    assert 'Epoch(train) [1][10/22]' in (work / 'pretrain.log').read_text()
    assert 'Epoch(train)' not in out
