"""Code benchmarks as objects: one module per benchmark in this package, each registering a :class:`CodeBenchmark`
(``@register``) that loads its problems, prepares what grading needs, grades one response and adds its own metric
rows. Adding a benchmark is one module here plus one config (``experiments/benchmark/<name>.yaml``); the modules
of this package are imported when it is."""

from __future__ import annotations

import importlib
import pkgutil

from evaluators.code.benchmarks.base import CodeBenchmark, CodeTask, get, names, register

__all__ = ["CodeBenchmark", "CodeTask", "get", "names", "register"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")
