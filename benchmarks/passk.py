"""Benchmark 4: Pass@k and bootstrap intervals over ~10^5 samples, ``evaluators.metrics`` vs per-problem Python.

Workload: 800 problems x 128 samples (102,400 correctness bits, per-problem success rates spread over
[0, 1]); Pass@k for k = 1, 2, 4, ..., 128 and a 1000-resample percentile bootstrap of each mean.

- ``naive``: per problem, per k, ``1 - comb(n - c, k) / comb(n, k)`` with Python integers; the bootstrap
  resamples problems with ``random.choices`` and averages in Python.
- ``ours``: ``evaluators.metrics.compute_metric_rows`` (Avg@k, Pass@k for every k, bootstrap CIs), the
  function the evaluators call.
- ``vectorised pass@k`` (a candidate, :func:`pass_at_k_table`): every problem and every k at once from
  one table of cumulative ``log(1 - k / i)``; compared with ``evaluators.metrics.pass_at_k_per_problem``,
  which loops over problems in Python.
Values are checked against each other (Pass@k to 1e-9; the bootstrap intervals, which use different random
streams, agree only statistically and are not compared).
"""

from __future__ import annotations

import math
import random

import numpy as np

from benchmarks.common import BenchResult, Row, goal_at_least, median, repeat_timing, speedup

NAME = "passk"
TITLE = "Pass@k + bootstrap over 10^5 samples: vectorised vs per-problem Python"


def correctness_table(problems: int, n: int, seed: int = 0) -> np.ndarray:
    """[P, n] bool: problem p's samples are correct with probability ``p_rate``, rates spread over [0, 1]."""
    rng = np.random.default_rng(seed)
    rates = rng.beta(0.5, 0.8, size=problems)  # many hard problems, some easy, as in RLVR evaluations
    return rng.random((problems, n)) < rates[:, None]


def pass_at_k_table(n: int, correct_counts: np.ndarray, ks: list[int]) -> np.ndarray:
    """Unbiased Pass@k for every problem and k at once. correct_counts: [P] int (c <= n); returns [len(ks), P].

    ``1 - C(n-c, k)/C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i)``, as a difference of cumulative log sums;
    1 where ``n - c < k``.
    """
    c = np.asarray(correct_counts, dtype=np.int64)
    i = np.arange(1, n + 1, dtype=np.float64)
    out = np.empty((len(ks), c.size), dtype=np.float64)
    for row, k in enumerate(ks):
        logs = np.zeros(n, dtype=np.float64)
        logs[k:] = np.log1p(-k / i[k:])  # terms with i > k; smaller i never enter when n - c >= k
        cum = np.concatenate([[0.0], np.cumsum(logs)])
        lo = n - c  # product over i in (n - c, n]
        prod = np.exp(cum[n] - cum[np.maximum(lo, k)])
        out[row] = np.where(lo < k, 1.0, 1.0 - prod)
    return out


def naive_pass_at_k(table: list[list[bool]], ks: list[int]) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {k: [] for k in ks}
    for samples in table:
        n, c = len(samples), sum(samples)
        for k in ks:
            out[k].append(1.0 - math.comb(n - c, k) / math.comb(n, k))
    return out


def naive_bootstrap(
    values: list[float], n_boot: int, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(n_boot))
    return means[int(alpha / 2 * (n_boot - 1))], means[int((1 - alpha / 2) * (n_boot - 1))]


def naive_metrics(table: list[list[bool]], ks: list[int], n_boot: int) -> dict:
    per_k = naive_pass_at_k(table, ks)
    avg = [sum(s) / len(s) for s in table]
    rows = {"avg": (sum(avg) / len(avg), naive_bootstrap(avg, n_boot))}
    for k, vals in per_k.items():
        rows[k] = (sum(vals) / len(vals), naive_bootstrap(vals, n_boot))
    return rows


def run(quick: bool = False) -> BenchResult:
    from evaluators.metrics import compute_metric_rows, default_pass_ks, pass_at_k_per_problem

    res = BenchResult(NAME, TITLE)
    problems, n, n_boot, repeats = (200, 64, 200, 1) if quick else (800, 128, 1000, 3)
    table = correctness_table(problems, n)
    ks = default_pass_ks(n)
    as_lists = table.tolist()
    print(f"[passk] {problems} x {n} samples, k = {ks}, {n_boot} bootstrap resamples ...", flush=True)

    t_naive, naive = repeat_timing(lambda: naive_metrics(as_lists, ks, n_boot), repeats)
    t_ours, rows = repeat_timing(
        lambda: compute_metric_rows("m", "x", {"bench": as_lists}, n_boot=n_boot, macro=False), repeats
    )
    ours = {(r.metric, r.k): r.value for r in rows}
    worst = max(abs(ours[("pass@k", k)] - naive[k][0]) for k in ks)

    t_loop, per_problem = repeat_timing(
        lambda: np.stack([pass_at_k_per_problem(as_lists, k) for k in ks]), repeats
    )
    counts = table.sum(axis=1)
    t_vec, vec = repeat_timing(lambda: pass_at_k_table(n, counts, ks), repeats)
    worst_vec = float(np.abs(vec - per_problem).max())

    m_naive, m_ours, m_loop, m_vec = median(t_naive), median(t_ours), median(t_loop), median(t_vec)
    r1, r2 = speedup(m_naive, m_ours), speedup(m_loop, m_vec)
    res.rows = [
        Row(
            f"{problems}x{n} samples: Avg@k + Pass@k ({len(ks)} k) + bootstrap CIs",
            "per-problem Python",
            "compute_metric_rows",
            "s",
            m_naive,
            m_ours,
            r1,
            "",
            None,
            f"max |Pass@k difference| {worst:.1e}",
        ),
        Row(
            f"{problems}x{n} samples: Pass@k table only",
            "pass_at_k_per_problem (loop)",
            "pass_at_k_table (vectorised)",
            "s",
            m_loop,
            m_vec,
            r2,
            "",
            None,
            f"max |difference| {worst_vec:.1e}",
        ),
    ]
    res.raw = {
        "problems": problems,
        "n": n,
        "ks": ks,
        "n_boot": n_boot,
        "repeats": repeats,
        "times_s": {
            "naive": t_naive,
            "compute_metric_rows": t_ours,
            "pass_at_k_per_problem": t_loop,
            "pass_at_k_table": t_vec,
        },
        "max_abs_diff": {"compute_metric_rows_vs_naive": worst, "vectorised_vs_per_problem": worst_vec},
    }
    for row in res.rows:
        row.met = goal_at_least(row.ratio, 1.0) if row.ratio is not None else None
        row.goal = "> 1x"
    res.notes.append(
        "pass_at_k_table lives in benchmarks/passk.py as a candidate for evaluators.metrics "
        "(the issue names no numeric goal for this benchmark; '> 1x' marks only that ours is faster)."
    )
    return res
