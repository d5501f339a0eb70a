"""Which ``run_results.py`` invocation runs a step.

Several invocations may work on one results folder side by side (each
with its own ``--only`` set, or overlapping ones). Before a step starts,
its invocation claims the step's work dir: ``running.json``, created only
if absent (a hard link), holding the invocation's pid and then its
training's. Another invocation that meets a claim with either process
alive leaves the step alone and waits for its ``step.json``; a claim whose
processes are gone (killed, machine restarted) is stale and taken over,
and the run resumes from its last checkpoint.
"""
import json
import os
import os.path as osp
import time

CLAIM = 'running.json'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _read(work_dir: str):
    try:
        with open(osp.join(work_dir, CLAIM)) as f:
            record = json.load(f)
        return int(record['pid']), record.get('child')
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def holder(work_dir: str):
    """The pid of the live invocation (or of its training, should the
    invocation have been killed) that holds the step, else None."""
    pid, child = _read(work_dir)
    if pid is None or pid == os.getpid():
        return None
    return next((p for p in (pid, child) if p and _alive(int(p))), None)


def claim(work_dir: str) -> bool:
    """Take the step for this process; False while another live one has
    it."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, CLAIM)
    # written aside, then linked into place: a claim is never seen empty
    tmp = f'{path}.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump({'pid': os.getpid(), 'since': time.time()}, f)
    try:
        for _ in range(2):
            try:
                os.link(tmp, path)  # fails if the claim exists
                return True
            except FileExistsError:
                if holder(work_dir) is not None:
                    return False
                try:  # stale: its processes are gone
                    os.remove(path)
                except FileNotFoundError:
                    pass
        return False  # another invocation took it over in between
    finally:
        os.remove(tmp)


def add_child(work_dir: str, child: int) -> None:
    """Record the training process this invocation started for the step."""
    path = osp.join(work_dir, CLAIM)
    with open(f'{path}.{os.getpid()}', 'w') as f:
        json.dump({'pid': os.getpid(), 'child': child, 'since': time.time()},
                  f)
    os.replace(f'{path}.{os.getpid()}', path)


def release(work_dir: str) -> None:
    """Give the step back (only a claim of this process)."""
    if _read(work_dir)[0] == os.getpid():
        os.remove(osp.join(work_dir, CLAIM))
