"""`python -m runtime.cli`: the same as the `patchwire` command."""

import sys

from . import main

sys.exit(main())
