"""Entry point of ``python -m analysis``."""

import sys

from .cli import main

sys.exit(main())
