"""The record of a grid's runs: the numbers read from each finished
run's logs (``step.json`` in its work dir, or what a stopped run logged),
and the results JSON gathered from them, to which a rerun adds without
erasing what other machines or seeds recorded."""
import json
import os
import os.path as osp
import platform


def read_scalars(work_dir):
    """mmengine's scalars.json lines of every run in the dir, oldest first;
    a resumed run (a second timestamped folder) overrides the steps it
    logged again."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                         'scalars.json')))
    if not runs:
        raise RuntimeError(f'{work_dir}: no vis_data/scalars.json')
    train, val = {}, []
    for run in runs:
        last_iter = 0
        with open(osp.join(work_dir, run, 'vis_data', 'scalars.json')) as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    if 'loss' in row:
                        train[row['iter']] = row
                        last_iter = row['iter']
                        continue
                    if not row.get('step'):
                        # an iteration-based run logs every validation as
                        # step 0: key it by the last logged iteration
                        row['step'] = last_iter
                    val = [r for r in val if r.get('step') !=
                           row.get('step')] + [row]
    return [train[i] for i in sorted(train)] + val


def summarise(step, work_dir):
    """The numbers the page needs from one finished run."""
    if step.kind == 'knn':  # the tool's last line is its JSON result
        with open(osp.join(work_dir, 'stdout.log')) as f:
            result = json.loads(f.read().strip().splitlines()[-1])
        return {'top1': result['top1'], 'top5': result.get('top5')}
    rows = read_scalars(work_dir)
    train = [r for r in rows if 'loss' in r]
    out = {'loss_curve': [[r['iter'], r['loss']] for r in train]}
    tail = [r['loss'] for r in train[-5:]]
    out['final_loss'] = sum(tail) / len(tail)
    # classification accuracy, or zero-shot accuracy for image-text runs
    metric = next((m for m in ('accuracy', 'zero_shot')
                   if any(f'{m}/top1' in r for r in rows)), None)
    val = [r for r in rows if f'{metric}/top1' in r]
    if val:
        out['val_top1_curve'] = [[r.get('step', i + 1), r[f'{metric}/top1']]
                                 for i, r in enumerate(val)]
        # the last epoch's number, not the best one: no picking on val
        out['top1'] = val[-1][f'{metric}/top1']
        out['top5'] = val[-1].get(f'{metric}/top5')
    return out


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(ln.split(':', 1)[1].strip() for ln in f
                       if ln.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return f'{os.cpu_count()} CPU cores ({cpu})'


def load_done(work_dir):
    path = osp.join(work_dir, 'step.json')
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return None


def load_incomplete(step, work_dir):
    """What a run that never finished (stopped, or still running) logged
    so far, marked as such; None if it left nothing."""
    cmd = osp.join(work_dir, 'command.txt')
    if not osp.isfile(cmd):
        return None
    try:
        record = summarise(step, work_dir)
    except (RuntimeError, OSError, ZeroDivisionError, ValueError, KeyError):
        return None  # nothing usable yet (a kNN step prints at its end)
    with open(cmd) as f:
        record['command'] = f.read().strip()
    record.update(status='incomplete', config=step.config, kind=step.kind,
                  init_from=step.init_from)
    return record


def read_results(path, grid):
    """The records already in ``path`` (none if it does not exist); a file
    of another grid is refused rather than mixed."""
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        recorded = json.load(f)
    if recorded.get('grid') != grid:
        raise SystemExit(f'{path} holds the {recorded.get("grid")!r} grid, '
                         f'not {grid!r}: pass another --out')
    return recorded['steps']


def write_results(path, steps, work_root, grid):
    """Gather every finished step's ``step.json`` (the work dirs are the
    record: several invocations may run side by side) into one file.
    Records already in the file whose work dirs are gone (another machine,
    other seeds) are kept: a rerun adds to the record, never erases it."""
    results = read_results(path, grid)
    for s in steps:
        done = load_done(osp.join(work_root, s.name))
        recorded = results.get(s.name)
        if done is None and (recorded is None
                             or recorded.get('status') == 'incomplete'):
            # a rerun that has not finished yet never hides a finished
            # record of the same step
            done = load_incomplete(s, osp.join(work_root, s.name))
        if done is None:
            done = recorded
        if done is not None:
            # labels and plot keys come from the grid's definition
            done.update(group=s.group, label=s.label, meta=s.meta)
            results[s.name] = done
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = path + f'.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump({'grid': grid, 'steps': results}, f, indent=1)
    os.replace(tmp, path)
