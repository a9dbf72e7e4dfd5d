"""``python3 -m bus_mobile_client <command>``, the same as ``bus-mobile``.
See :mod:`.cli`."""

import sys

from .cli import main

sys.exit(main())
