"""Moved to :mod:`resrl.verifiers.math_grading_pool` (the library owns the verifiers its rewards use); this old import path
is the same module object (so attributes, private ones included, and monkeypatches are shared)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("resrl.verifiers.math_grading_pool")
