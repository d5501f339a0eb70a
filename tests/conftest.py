import os
import os.path as osp

import pytest

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
