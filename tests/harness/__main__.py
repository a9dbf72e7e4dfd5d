"""``python3 tests/harness <command>`` from the repository root, or
``python3 -m harness <command>`` from ``tests/``. See :mod:`.cli`."""

import os
import sys

if __package__:
    from .cli import main
else:
    # Run as a directory: put its parent on the path instead of itself, so
    # that the package imports by name and its modules shadow nothing.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from harness.cli import main

sys.exit(main())
