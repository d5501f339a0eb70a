import os
import os.path as osp

import pytest

# One thread per process, for the test processes and every process they
# start: the suite runs in two processes (pytest-xdist) on two cores, and
# two threads each would only make them wait on each other.
for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shared_data_dir():
    """../shared/data beside the checkout (CI and developers), or
    $EASYMAE_SHARED_DATA; None for a user's clone that has neither."""
    for candidate in (os.environ.get('EASYMAE_SHARED_DATA'),
                      osp.join(REPO_ROOT, '..', 'shared', 'data')):
        if candidate and osp.isdir(candidate):
            return osp.abspath(candidate)
    return None


@pytest.fixture
def shared_data():
    path = shared_data_dir()
    if path is None:
        pytest.skip('../shared/data is not beside this checkout (and '
                    'EASYMAE_SHARED_DATA is unset): real-data test skipped')
    return path


@pytest.fixture(autouse=True)
def _easymae_scope():
    """Build components in the easymae scope, as a config run does."""
    from mmengine.registry import DefaultScope

    import easymae  # noqa: F401
    name = f'easymae-test-{os.getpid()}'
    if DefaultScope.check_instance_created(name):
        scope = DefaultScope.get_instance(name)
    else:
        scope = DefaultScope.get_instance(name, scope_name='easymae')
    yield scope


@pytest.fixture(scope='session')
def tiny_mae_checkpoint(tmp_path_factory):
    """One real 1-epoch digits MAE run through tools/train.py, shared by the
    tests that need a trained checkpoint (pictures, analysis tools).
    Trains with the ReconstructionHook on, so its picture is there too."""
    import subprocess
    import sys
    tmp = tmp_path_factory.mktemp('tiny_mae')
    base = osp.join(REPO_ROOT, 'configs', 'selfsup', 'mae',
                    'mae_vit-tiny-d6-p4_1xb64-30e_digits.py')
    config = tmp / 'with_hook.py'
    config.write_text(
        f'_base_ = [{base!r}]\n'
        "custom_hooks = [dict(type='ReconstructionHook', interval=1, "
        'num_images=4)]\n')
    work = tmp / 'work'
    subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
         str(config), '--work-dir', str(work), '--cfg-options',
         'train_cfg.max_epochs=1', 'model.backbone.depth=2',
         'model.backbone.embed_dim=48',
         'train_dataloader.dataset.data_source.split=val'],
        check=True, capture_output=True, timeout=600, cwd=REPO_ROOT)
    return work / 'epoch_1.pth'


def pytest_collection_modifyitems(config, items):
    """The slow tests (multi-process runs, whole trainings) first, the
    longest (``slow(seconds=...)``, their rough cost in the suite) leading:
    the two test processes (pytest.ini: worksteal) share them out early and
    end together on the short ones, instead of one of them running a long
    test alone at the end."""
    def order(item):
        slow = item.get_closest_marker('slow')
        return (slow is None, -(slow.kwargs.get('seconds', 0) if slow
                                else 0))
    items.sort(key=order)
