"""The one error type the command line reports as a short message (no traceback)."""

from __future__ import annotations


class CLIError(Exception):
    """A problem the user can fix (a missing data set, a bad checkpoint, a missing device):
    ``main`` prints ``minigrad <command>: error: <message>`` on stderr and exits with 1."""
