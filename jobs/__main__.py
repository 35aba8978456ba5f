"""`python -m jobs` runs the `music-corpus` command line."""

import sys

from jobs.cli import main

sys.exit(main())
