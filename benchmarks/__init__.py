"""Benchmark suite: ratios of our implementations against the obvious ones, measured in one run.

Run everything with ``python -m benchmarks`` (``--quick`` for a smoke run, ``--only NAME`` to select); results
go to ``results/benchmarks/<name>.json`` and ``results/benchmarks/SUMMARY.md``. Timings live here, never in
the pass/fail tests. See ``benchmarks/README.md``.
"""
