"""The errors of a checkpoint that cannot be read (shared by the loaders
of single files and of sharded folders)."""


class UnsafeCheckpointError(RuntimeError):
    """The file holds Python objects that only a full unpickler could
    rebuild, i.e. it could run code. It was not loaded."""


class CheckpointFormatError(RuntimeError):
    """The file is not a checkpoint easymae can read."""
