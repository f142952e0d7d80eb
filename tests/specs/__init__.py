"""The table of test specs: one per registered op, merged from the per-area files."""

from tests.specs.base import Spec
from tests.specs.core import SPECS as _CORE

SPECS: dict[str, Spec] = {**_CORE}
