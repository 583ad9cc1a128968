"""``python -m thoughtfield.bench``: see :mod:`thoughtfield.bench`."""

import sys

from . import main

sys.exit(main())
