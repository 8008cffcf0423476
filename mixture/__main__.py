"""``python -m mixture``: the command line."""

import sys

from mixture.cli import main

sys.exit(main())
