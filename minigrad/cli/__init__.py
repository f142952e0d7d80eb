"""The ``minigrad`` command line (``python -m minigrad``): ``train``, ``evaluate``, ``predict``
and ``explain``."""

from minigrad.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
