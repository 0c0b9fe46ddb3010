"""`python -m Server_3_free_threads ...`: see cli.py."""

import sys

from .cli import main

sys.exit(main())
