"""``python -m minigrad``: the command line (see ``minigrad.cli``)."""

from __future__ import annotations

import sys

from minigrad.cli import main

if __name__ == "__main__":
    sys.exit(main())
