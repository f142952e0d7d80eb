"""The table of test specs: one per registered op, merged from the per-area files."""

from tests.specs.base import Spec
from tests.specs.conv import SPECS as _CONV
from tests.specs.core import SPECS as _CORE
from tests.specs.inplace import SPECS as _INPLACE
from tests.specs.nn import SPECS as _NN

SPECS: dict[str, Spec] = {**_CORE, **_CONV, **_NN, **_INPLACE}
