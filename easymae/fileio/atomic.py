"""Files written so that a reader sees the old content or the new, never
half of either: a temporary name in the same folder, flushed to disk, then
renamed over the target."""
import os
import tempfile


class CheckpointWriteError(OSError):
    """A file could not be written (disk full, no permission, ...)."""


def check_writable_dir(folder: str, what: str = 'folder') -> None:
    """Create ``folder`` if needed and prove a file can be written there;
    raise ``CheckpointWriteError`` naming it otherwise."""
    folder = os.path.abspath(folder)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix='.write_test.')
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise CheckpointWriteError(
            e.errno, f'{what} {folder!r} is not writable ({e.strerror}); '
            'choose another --work-dir or fix its permissions') from e


def remove_stale_temporaries(folder: str) -> list:
    """Delete temporary files left by a process killed while writing."""
    removed = []
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.startswith('.') and name.endswith('.tmp'):
                os.unlink(os.path.join(folder, name))
                removed.append(name)
    return removed


def atomic_write_bytes(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` so that a reader sees old or new, never
    half of either; a failure leaves the old file and no temporary file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder,
                               prefix='.' + os.path.basename(path) + '.',
                               suffix='.tmp')
    try:
        # mkstemp makes the file 0600; give it the permissions open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, CheckpointWriteError):
            kept = ('the previous file is kept' if os.path.exists(path)
                    else 'nothing was written')
            raise CheckpointWriteError(
                e.errno, f'could not write {path!r} ({len(data)} bytes): '
                f'{e.strerror or e}; {kept}. Free disk space or choose '
                'another work dir') from e
        raise
