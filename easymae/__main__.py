"""``python -m easymae COMMAND ...``: the ``easymae`` command."""
import sys

from .cli import main

if __name__ == '__main__':
    sys.exit(main())
