"""run_results.py invocations side by side: a step runs once, a stopped
invocation stops its trainings, a dead one's claim is taken over."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'experiments'))
import results_grid  # noqa: E402
import run_results  # noqa: E402
import step_claims  # noqa: E402

HOLD = ('import sys, time; sys.path.insert(0, {path!r}); '
        'import step_claims; print(step_claims.claim({wd!r}), flush=True); '
        'time.sleep(600)')


def hold(wd):
    """Another process that claims ``wd`` and keeps running."""
    proc = subprocess.Popen(
        [sys.executable, '-c', HOLD.format(
            path=osp.join(ROOT, 'tools', 'experiments'), wd=str(wd))],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'True'
    return proc


def test_claim_is_exclusive_while_its_holder_lives(tmp_path):
    wd = tmp_path / 'step'
    other = hold(wd)
    try:
        assert step_claims.holder(str(wd)) == other.pid
        assert not step_claims.claim(str(wd))
        step_claims.release(str(wd))  # not ours: left alone
        assert (wd / step_claims.CLAIM).exists()
    finally:
        other.kill()
        other.wait()
    # its holder is gone: the claim is stale and taken over
    assert step_claims.holder(str(wd)) is None
    assert step_claims.claim(str(wd))
    # a training this invocation started keeps the claim alive after it
    child = subprocess.Popen([sys.executable, '-c', 'import time; '
                              'time.sleep(600)'])
    try:
        step_claims.add_child(str(wd), child.pid)
        record = json.loads((wd / step_claims.CLAIM).read_text())
        assert record == dict(record, pid=os.getpid(), child=child.pid)
    finally:
        child.kill()
        child.wait()
    step_claims.release(str(wd))
    assert not (wd / step_claims.CLAIM).exists()


def test_a_step_held_elsewhere_is_waited_for_not_run_twice(tmp_path):
    steps = run_results.select(results_grid.grid_digits_smoke([0]), ['pt'])
    wd = tmp_path / 'pt'
    other = hold(wd)

    def finish_elsewhere():
        time.sleep(2)
        (wd / 'step.json').write_text(json.dumps(
            {'kind': 'pretrain', 'final_loss': 0.5, 'returncode': 0}))
        other.kill()

    threading.Thread(target=finish_elsewhere).start()
    results, failed = run_results.run_grid(
        steps, str(tmp_path), None, 1, False, str(tmp_path / 'r.json'),
        'digits-smoke', steps)
    other.wait()
    assert failed == [] and results['pt']['final_loss'] == 0.5
    # this invocation never started the training
    assert not (wd / 'command.txt').exists()


@pytest.mark.slow
def test_stopping_an_invocation_stops_its_training(tmp_path):
    work = tmp_path / 'work'
    runner = subprocess.Popen(
        [sys.executable, 'tools/experiments/run_results.py', '--grid',
         'digits-smoke', '--only', 'pt', '--work-dir', str(work), '--out',
         str(tmp_path / 'r.json')], cwd=ROOT, stdout=subprocess.PIPE,
        text=True)
    lines = []
    for line in runner.stdout:
        lines.append(line)
        if line.startswith('[start] pt'):
            break
    for _ in range(100):  # the claim names the training once it started
        claim = json.loads((work / 'pt' / step_claims.CLAIM).read_text())
        if claim.get('child'):
            break
        time.sleep(0.1)
    assert claim['pid'] == runner.pid
    training = claim['child']
    os.kill(runner.pid, signal.SIGTERM)
    rest = runner.communicate(timeout=120)[0]
    assert runner.returncode != 0
    assert '[stopped] pt: a rerun resumes it' in rest
    with pytest.raises(ProcessLookupError):  # no training left behind
        os.kill(training, 0)
    assert not (work / 'pt' / step_claims.CLAIM).exists()
    assert not (work / 'pt' / 'step.json').exists()
