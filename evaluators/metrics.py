"""Sampling metrics shared by all evaluators: Avg@k, unbiased Pass@k, macro averages, bootstrap CIs.

- Avg@k (paper, Table 1: "mean over 16 independent generations"): mean correctness over the k samples of
  a problem, averaged over problems.
- Pass@k: the unbiased estimator of Chen et al. (2021, "Evaluating Large Language Models Trained on
  Code", eq. 1): with n samples of which c are correct, ``1 - C(n-c, k) / C(n, k)``, evaluated as the
  product ``1 - prod_{i=n-c+1}^{n} (1 - k / i)`` so no huge binomials appear (stable for n = 128 and
  beyond), averaged over problems.
- Confidence intervals: percentile bootstrap over problems (stratified by benchmark for the macro
  average), with a fixed seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from evaluators.common.schema import MetricRow
from resrl.verifiers.passk import pass_at_k

__all__ = [
    "avg_at_k",
    "bootstrap_ci",
    "bootstrap_macro_ci",
    "compute_metric_rows",
    "default_pass_ks",
    "pass_at_k",
    "pass_at_k_per_problem",
    "per_problem_scores",
]


def _rows(correct: Sequence[Sequence[bool]]) -> list[np.ndarray]:
    if len(correct) == 0:
        raise ValueError("correctness table is empty: need at least one problem")
    rows = [np.asarray(r, dtype=bool).reshape(-1) for r in correct]
    empty = [i for i, r in enumerate(rows) if r.size == 0]
    if empty:
        raise ValueError(f"problem(s) {empty[:5]} have no samples")
    return rows


def avg_at_k(correct: list[list[bool]]) -> float:
    """Avg@k: ``correct[p][s]`` is whether sample ``s`` of problem ``p`` is right; the mean over samples of
    each problem, averaged over problems (problems may have different sample counts)."""
    return float(np.mean([r.mean() for r in _rows(correct)]))


def pass_at_k_per_problem(correct: Sequence[Sequence[bool]], k: int) -> np.ndarray:
    """Unbiased Pass@k of every problem, shape [P], float64 (``k`` must not exceed any problem's n)."""
    return np.array([pass_at_k(r.size, int(r.sum()), k) for r in _rows(correct)], dtype=np.float64)


def default_pass_ks(n: int, max_k: int = 128) -> list[int]:
    """Powers of two up to ``min(n, max_k)``, plus ``min(n, max_k)`` itself: for n=16 -> [1, 2, 4, 8, 16]."""
    top = min(int(n), int(max_k))
    ks = [1 << e for e in range(top.bit_length()) if (1 << e) <= top]
    if ks[-1] != top:
        ks.append(top)
    return ks


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-problem ``values`` (shape [P])."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("bootstrap_ci: no values")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    means = v[idx].mean(axis=1)
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


def bootstrap_macro_ci(
    groups: Sequence[Sequence[float]], n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap interval of the macro average (mean over groups of the mean within each group); problems
    are resampled within their own benchmark."""
    if len(groups) == 0:
        raise ValueError("bootstrap_macro_ci: no groups")
    rng = np.random.default_rng(seed)
    boot = np.zeros(n_boot, dtype=np.float64)
    for g in groups:
        v = np.asarray(g, dtype=np.float64)
        if v.size == 0:
            raise ValueError("bootstrap_macro_ci: a group has no values")
        boot += v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    boot /= len(groups)
    return float(np.quantile(boot, alpha / 2)), float(np.quantile(boot, 1 - alpha / 2))


def _rectangular(correct: Sequence[Sequence[bool]]) -> tuple[np.ndarray, int]:
    """Truncate every problem to the smallest sample count n; returns ([P, n] bool, n)."""
    rows = _rows(correct)
    n = min(r.size for r in rows)
    return np.stack([r[:n] for r in rows]), n


def per_problem_scores(
    correct_by_benchmark: Mapping[str, Sequence[Sequence[bool]]],
    pass_ks: Sequence[int] | None = None,
    max_k: int = 128,
) -> list[tuple[str, str, int, int, np.ndarray]]:
    """(benchmark, metric, k, n, scores [P] float64) of each benchmark's ``avg@k`` (k = n: each problem's fraction
    of correct samples) and ``pass@k`` (each problem's unbiased estimate, per k of ``pass_ks``, default powers of two
    up to ``min(n, max_k)``); every benchmark truncated to its smallest per-problem sample count n."""
    out = []
    for bench, correct in correct_by_benchmark.items():
        table, n = _rectangular(correct)
        ks = sorted(set(pass_ks)) if pass_ks is not None else default_pass_ks(n, max_k)
        bad = [k for k in ks if not 1 <= k <= n]
        if bad:
            raise ValueError(f"{bench}: pass@k needs 1 <= k <= n={n}, got k={bad}")
        out.append((bench, "avg@k", n, n, table.mean(axis=1)))
        out += [(bench, "pass@k", k, n, pass_at_k_per_problem(table, k)) for k in ks]
    return out


def compute_metric_rows(
    model: str,
    method: str,
    correct_by_benchmark: Mapping[str, Sequence[Sequence[bool]]],
    pass_ks: Sequence[int] | None = None,
    max_k: int = 128,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    macro: bool = True,
) -> list[MetricRow]:
    """Tidy rows: ``avg@k`` (k = n) and ``pass@k`` (each k in ``pass_ks``, default powers of two up to
    ``min(n, max_k)``) for each benchmark, plus their macro average over benchmarks (benchmark ``"macro"``).

    Every benchmark is truncated to its smallest per-problem sample count n (the first n samples).
    The macro rows only use k values that every benchmark supports; their ``n_samples`` is the smallest n.
    """
    rows: list[MetricRow] = []
    per_metric: dict[tuple[str, int], list[np.ndarray]] = {}
    ns: dict[str, int] = {}
    for bench, name, k, n, values in per_problem_scores(correct_by_benchmark, pass_ks, max_k):
        ns[bench] = n
        lo, hi = bootstrap_ci(values, n_boot, alpha, seed)
        rows.append(MetricRow(model, method, bench, name, int(k), float(values.mean()), lo, hi, n))
        per_metric.setdefault((name, int(k) if name == "pass@k" else -1), []).append(values)
    if macro and len(correct_by_benchmark) > 1:
        n_min = min(ns.values())
        n_bench = len(correct_by_benchmark)
        for (name, k), groups in per_metric.items():
            if len(groups) != n_bench:
                continue  # a k that some benchmark lacks
            if name == "avg@k" and len(set(ns.values())) > 1:
                continue  # Avg@k over different k is not one metric
            lo, hi = bootstrap_macro_ci(groups, n_boot, alpha, seed)
            value = float(np.mean([g.mean() for g in groups]))
            rows.append(
                MetricRow(model, method, "macro", name, n_min if name == "avg@k" else k, value, lo, hi, n_min)
            )
    return rows
