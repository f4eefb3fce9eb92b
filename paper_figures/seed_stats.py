"""Intervals over seeds and problems, and differences between methods, for the tables of a multi-seed profile.

Input: per (model, method) a score matrix ``[S, P]`` float: the per-problem score (e.g. each problem's Avg@n or
Pass@k) of each of ``S`` training seeds on the same ``P`` problems.

- :func:`seed_problem_interval`: the mean over seeds and problems with a percentile bootstrap that resamples
  seeds and problems (two-way: one draw of seed indices and one of problem indices per replicate), so the interval
  holds both the training noise (seeds) and the benchmark's sampling noise (problems).
- :func:`paired_difference`: method A minus method B on the same problems: each replicate draws one problem
  resample shared by both (the pairing removes the problems' common difficulty) and each method's seeds
  independently (different seeds are independent training runs).
- :func:`separated`: whether the best of a column is ahead of the runner-up beyond the noise: the paired
  difference's interval excludes 0. A table bolds a cell only then; otherwise it says "tied".

Everything is seeded (``seed``) and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    def excludes(self, value: float) -> bool:
        return not self.low <= value <= self.high


def _matrix(scores) -> np.ndarray:
    m = np.asarray(scores, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ValueError(
            f"scores must be a [seeds, problems] matrix with at least one of each, got shape {m.shape}"
        )
    if not np.isfinite(m).all():
        raise ValueError("scores hold a non-finite value")
    return m


def _draws(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    return rng.integers(0, n, size=(n_boot, n))


def seed_problem_interval(scores, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> Interval:
    """Mean of ``scores`` [S, P] and its (1 - alpha) two-way bootstrap interval over seeds and problems."""
    m = _matrix(scores)
    s, p = m.shape
    rng = np.random.default_rng(seed)
    rows, cols = _draws(rng, s, n_boot), _draws(rng, p, n_boot)
    # replicate b: mean of m[rows[b]][:, cols[b]] = mean over the drawn seeds of each drawn seed's problem mean
    reps = np.array([m[rows[b]][:, cols[b]].mean() for b in range(n_boot)])
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return Interval(float(m.mean()), float(lo), float(hi))


def paired_difference(a, b, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> Interval:
    """Mean of ``a - b`` (both [S_a, P] and [S_b, P] on the same problems) with its bootstrap interval: shared
    problem draws, independent seed draws."""
    ma, mb = _matrix(a), _matrix(b)
    if ma.shape[1] != mb.shape[1]:
        raise ValueError(f"a and b must score the same problems: {ma.shape[1]} vs {mb.shape[1]} problems")
    rng = np.random.default_rng(seed)
    p = ma.shape[1]
    cols = _draws(rng, p, n_boot)
    rows_a, rows_b = _draws(rng, ma.shape[0], n_boot), _draws(rng, mb.shape[0], n_boot)
    reps = np.array(
        [ma[rows_a[i]][:, cols[i]].mean() - mb[rows_b[i]][:, cols[i]].mean() for i in range(n_boot)]
    )
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return Interval(float(ma.mean() - mb.mean()), float(lo), float(hi))


def separated(best, runner_up, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> bool:
    """True when ``best`` ([S, P]) is ahead of ``runner_up`` beyond the noise: the paired difference's interval
    lies above 0."""
    d = paired_difference(best, runner_up, n_boot, alpha, seed)
    return d.low > 0
