"""Shared by the FSDP-against-DDP tests: run one config under DDP and under
FSDP2 (2 torchrun processes each, gloo) and compare what they logged and
the models they ended with (``DumpFullStateHook`` in the config)."""
import json
import shutil
import warnings

import torch
from reliab_helpers import load_state, run_torchrun

FSDP = "model_wrapper_cfg = dict(type='FSDP2')\n"
# the hook that writes init_full.pth, final_full.pth, state_bytes_rank*.json
DUMP_STATE = '''
custom_imports = dict(imports=['reliab_plugins.full_state'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='DumpFullStateHook')]
'''
# A rank of these runs has died, rarely and never on demand, inside torch's
# CPU (gloo) collectives: at process exit after training, or with SIGSEGV
# while the full state dict was gathered. Such a run is repeated once, with
# a warning that carries the first failure (each rank's Python stack is in
# it: the test env turns faulthandler on). Any other failure fails at once.
RANK_CRASHES = ('terminate called without an active exception',
                'Signal 11 (SIGSEGV)')


def run_twice_if_rank_crash(config, work_dir, *args, nproc=2, timeout=300):
    try:
        return run_torchrun(config, work_dir, *args, nproc=nproc,
                            timeout=timeout)
    except AssertionError as err:
        if not any(crash in str(err) for crash in RANK_CRASHES):
            raise
        warnings.warn(f'a torchrun rank crashed; running again once:\n{err}')
        shutil.rmtree(work_dir)
        return run_torchrun(config, work_dir, *args, nproc=nproc,
                            timeout=timeout)


def run_ddp_and_fsdp(tmp_path, config_text, timeout=300):
    """The same config (which must include ``DUMP_STATE``) under DDP and
    FSDP2; returns the two work dirs."""
    ddp, fsdp = tmp_path / 'ddp.py', tmp_path / 'fsdp.py'
    ddp.write_text(config_text)
    fsdp.write_text(config_text + FSDP)
    for cfg, work in ((ddp, tmp_path / 'ddp'), (fsdp, tmp_path / 'fsdp')):
        run_twice_if_rank_crash(cfg, work, timeout=timeout)
    return tmp_path / 'ddp', tmp_path / 'fsdp'


def losses(work_dir, key='loss'):
    """Every logged value of ``key``, in the order logged (training and
    validation records kept apart, unlike ``logged_scalars``)."""
    values = []
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        with open(path) as f:
            values += [rec[key] for rec in map(json.loads, f) if key in rec]
    return values


def assert_same_losses(a, b, rel):
    """Same number of logged losses, each within ``rel`` (relative);
    returns the largest relative gap."""
    assert len(a) == len(b) > 0, (len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        assert abs(x - y) <= rel * abs(x), (i, x, y)
    return max(abs(x - y) / abs(x) for x, y in zip(a, b))


def assert_close_models(a, b, init, share):
    """Same keys; every tensor within ``share`` of how far training moved
    it. The attention key bias (``qkv.bias``'s middle third), whose true
    gradient is zero, is left out (see tests/engine/test_distributed.py).
    Returns the largest gap as a share of the change."""
    assert a.keys() == b.keys() == init.keys()
    worst = 0.0
    for key in a:
        gap = a[key].float() - b[key].float()
        if key.endswith('attn.qkv.bias'):
            q, _, v = gap.chunk(3)
            gap = torch.cat([q, v])
        gap = gap.abs().max().item()
        change = (a[key].float() - init[key].float()).abs().max().item()
        assert gap <= share * change + 1e-7, (key, gap, change)
        worst = max(worst, gap / change if change else 0.0)
    return worst


def compare_runs(ddp, fsdp, loss_rel, weight_share, loss_key='loss'):
    """Asserts: same initial weights, losses within ``loss_rel``, final
    weights within ``weight_share`` of their change, and FSDP holding at
    most 0.55 of DDP's parameters + optimizer state on each rank.
    Returns (largest loss gap, largest weight gap)."""
    init = load_state(ddp / 'init_full.pth')
    fsdp_init = load_state(fsdp / 'init_full.pth')
    assert init.keys() == fsdp_init.keys()
    assert all(torch.equal(init[k], fsdp_init[k]) for k in init)
    loss_gap = assert_same_losses(losses(ddp, loss_key),
                                  losses(fsdp, loss_key), loss_rel)
    weight_gap = assert_close_models(load_state(ddp / 'final_full.pth'),
                                     load_state(fsdp / 'final_full.pth'),
                                     init, weight_share)
    for rank in (0, 1):
        with open(ddp / f'state_bytes_rank{rank}.json') as f:
            d = json.load(f)
        with open(fsdp / f'state_bytes_rank{rank}.json') as f:
            s = json.load(f)
        assert s['params'] + s['optimizer'] <= \
            0.55 * (d['params'] + d['optimizer']), (d, s)
    return loss_gap, weight_gap
