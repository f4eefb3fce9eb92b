"""Moved to :mod:`resrl.records.provenance` (the library records what produced a result); this old import path is
the same module object."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("resrl.records.provenance")
