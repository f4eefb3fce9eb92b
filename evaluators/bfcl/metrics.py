"""BFCL accuracy rows for the tidy metrics table (``paper_figures/table4.py`` reads them).

Benchmarks: ``bfcl_<category>`` (base, miss_func, miss_param, long_context), metric ``accuracy``, k = 1: the
fraction of entries the checker found valid, with a percentile-bootstrap interval over entries. When all four
categories were evaluated, ``bfcl_multi_turn`` is their unweighted mean (BFCL's "Multi Turn Overall Acc",
``calculate_unweighted_accuracy``), with the interval of that macro average. With fewer categories no overall
row is written: BFCL would count a missing category as 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from evaluators.bfcl.data import CATEGORIES
from evaluators.common.schema import MetricRow
from evaluators.metrics import bootstrap_ci, bootstrap_macro_ci

OVERALL = "bfcl_multi_turn"
METRIC = "accuracy"


def benchmark_name(category: str) -> str:
    """``base`` -> ``bfcl_base`` (the name in the metrics table)."""
    return f"bfcl_{category}"


def accuracy_rows(
    model: str,
    method: str,
    valid: Mapping[str, Sequence[bool]],
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> list[MetricRow]:
    """One ``accuracy`` row per category in ``valid`` (category -> per-entry validity), in the paper's order,
    plus ``bfcl_multi_turn`` when every category is present. A category without entries is an error."""
    unknown = sorted(set(valid) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown BFCL categories {unknown}; allowed: {list(CATEGORIES)}")
    rows = []
    groups = []
    for cat in (c for c in CATEGORIES if c in valid):
        v = [1.0 if x else 0.0 for x in valid[cat]]
        if not v:
            raise ValueError(f"BFCL category {cat!r} has no evaluated entries")
        lo, hi = bootstrap_ci(v, n_boot=n_boot, alpha=alpha, seed=seed)
        rows.append(MetricRow(model, method, benchmark_name(cat), METRIC, 1, sum(v) / len(v), lo, hi, 1))
        groups.append(v)
    if len(groups) == len(CATEGORIES):
        value = sum(sum(g) / len(g) for g in groups) / len(groups)
        lo, hi = bootstrap_macro_ci(groups, n_boot=n_boot, alpha=alpha, seed=seed)
        rows.append(MetricRow(model, method, OVERALL, METRIC, 1, value, lo, hi, 1))
    return rows
