"""A Codeforces-style Elo rating from solved / unsolved rated problems, with a confidence interval and the
percentile among rated Codeforces users.

Method (written next to every result by ``elo_report``):

- Elo model: a contestant of rating r solves a problem of difficulty rating d with probability
  ``p(r, d) = 1 / (1 + 10 ** ((d - r) / 400))``.
- Estimate: the maximum-likelihood r given, for every problem i, ``c_i`` solved samples out of ``n_i``
  (each sample an independent attempt): maximise ``sum_i c_i log p(r, d_i) + (n_i - c_i) log(1 - p(r, d_i))``.
  The log-likelihood is concave in r, so the MLE is the root of the score ``sum_i (c_i - n_i p(r, d_i))``,
  found by bisection on ``[lower, upper]`` (default 0..4000). When every attempt fails (or succeeds) there is no
  finite maximum: the estimate is the bound and ``at_bound`` says so.
- Confidence interval: percentile bootstrap over problems (problems are resampled with their c_i, n_i and d_i;
  the MLE is recomputed for each resample), which also covers the correlation of samples of one problem.
  The Wald standard error ``1 / sqrt(Fisher information)`` (attempts treated as independent) is reported too.
- Percentile: the share (in %) of rated users in the rating table whose rating is strictly below r, i.e.
  ``bisect_left(sorted_ratings, r) / len(sorted_ratings) * 100`` as in DeepCoder's ``cf_elo_calc.py``; the
  table shipped with the data (``deepcoder_ratings_2024.json``) has 89,352 users rated in 2024.

This is not the Codeforces contest rating (which needs contest standings, unavailable offline); it is the rating
at which the Elo model best explains the observed solves over the problems' difficulty ratings.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

LN10_OVER_400 = math.log(10.0) / 400.0
DEFAULT_BOUNDS = (0.0, 4000.0)

METHOD_TEXT = (
    "Elo maximum-likelihood rating: P(solve) = 1/(1+10^((d-r)/400)) for a problem of Codeforces difficulty "
    "rating d; r maximises the binomial likelihood of the solved samples over all problems (bisection on the "
    "score, bounded to [lower, upper]; at_bound marks an estimate stuck at a bound because all attempts failed or "
    "all succeeded). CI: percentile bootstrap over problems. Percentile: % of rated Codeforces users (2024 "
    "table) with a rating strictly below r. Not a contest rating: no standings are used."
)


def solve_probability(r: float | np.ndarray, d: float | np.ndarray) -> np.ndarray:
    """``1 / (1 + 10 ** ((d - r) / 400))``, elementwise (float64)."""
    return 1.0 / (
        1.0 + np.power(10.0, (np.asarray(d, dtype=np.float64) - np.asarray(r, dtype=np.float64)) / 400.0)
    )


def _mle_batch(
    d: np.ndarray, c: np.ndarray, n: np.ndarray, lower: float, upper: float, iters: int = 80
) -> np.ndarray:
    """MLE for B weightings at once. d: [P] ratings; c, n: [B, P] solved and attempted counts. Returns [B]."""

    def score(r: np.ndarray) -> np.ndarray:  # r: [B] -> [B]
        p = solve_probability(r[:, None], d[None, :])
        return (c - n * p).sum(axis=1)

    b = c.shape[0]
    lo = np.full(b, lower, dtype=np.float64)
    hi = np.full(b, upper, dtype=np.float64)
    s_lo, s_hi = score(lo), score(hi)
    for _ in range(iters):  # the score decreases in r; keep score(lo) > 0 > score(hi)
        mid = 0.5 * (lo + hi)
        s_mid = score(mid)
        up = s_mid > 0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    r = 0.5 * (lo + hi)
    r = np.where(s_lo <= 0, lower, r)  # even the lower bound over-predicts solves
    r = np.where(s_hi >= 0, upper, r)  # even the upper bound under-predicts solves
    return r


def elo_mle(
    ratings: Sequence[float],
    solved: Sequence[float],
    attempts: Sequence[float] | None = None,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
) -> float:
    """The maximum-likelihood rating for problems of difficulty ``ratings`` with ``solved[i]`` of
    ``attempts[i]`` (default 1) attempts solved (see the module docstring)."""
    d = np.asarray(ratings, dtype=np.float64)
    c = np.asarray(solved, dtype=np.float64)
    n = np.ones_like(c) if attempts is None else np.asarray(attempts, dtype=np.float64)
    if d.ndim != 1 or d.shape != c.shape or d.shape != n.shape or d.size == 0:
        raise ValueError(
            f"ratings, solved and attempts must be equal-length non-empty 1-D; got {d.shape}, "
            f"{c.shape}, {n.shape}"
        )
    if np.any(c < 0) or np.any(c > n) or np.any(n <= 0):
        raise ValueError("need 0 <= solved <= attempts and attempts > 0 for every problem")
    lower, upper = bounds
    if not lower < upper:
        raise ValueError(f"bounds must satisfy lower < upper, got {bounds}")
    return float(_mle_batch(d, c[None, :], n[None, :], lower, upper)[0])


@dataclass(frozen=True)
class EloEstimate:
    rating: float
    ci_low: float
    ci_high: float
    wald_se: float  # 1/sqrt(Fisher information) at the estimate, attempts independent (inf at a bound)
    at_bound: str  # "", "lower" or "upper"
    n_problems: int
    n_samples: int  # attempts per problem (the smallest, if they differ)
    solved_fraction: float  # mean over problems of c_i / n_i
    bounds: tuple[float, float]
    alpha: float
    n_boot: int


def estimate_elo(
    ratings: Sequence[float],
    correct: Sequence[Sequence[bool]],
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> EloEstimate:
    """MLE rating and bootstrap interval from ``correct[i][s]`` (sample s of problem i solved?)."""
    d = np.asarray(ratings, dtype=np.float64)
    if len(correct) != d.size or d.size == 0:
        raise ValueError(f"need one correctness row per rated problem: {len(correct)} rows, {d.size} ratings")
    c = np.array([float(np.sum(row)) for row in correct])
    n = np.array([float(len(row)) for row in correct])
    if np.any(n == 0):
        raise ValueError("every problem needs at least one sample")
    lower, upper = bounds
    r = elo_mle(d, c, n, bounds)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, size=(n_boot, d.size))
    counts = np.zeros((n_boot, d.size))
    np.add.at(counts, (np.arange(n_boot)[:, None], idx), 1.0)  # [B, P] multiplicity of each problem
    boot = _mle_batch(d, counts * c[None, :], counts * n[None, :], lower, upper)
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    p = solve_probability(r, d)
    info = float(np.sum(n * p * (1 - p))) * LN10_OVER_400**2
    at = "lower" if r <= lower else "upper" if r >= upper else ""
    se = 1.0 / math.sqrt(info) if info > 0 and not at else math.inf
    return EloEstimate(
        r,
        float(lo),
        float(hi),
        se,
        at,
        int(d.size),
        int(n.min()),
        float(np.mean(c / n)),
        (float(lower), float(upper)),
        alpha,
        n_boot,
    )


class RatingTable:
    """Ratings of rated users, for percentiles. Build from ``{rating: count}`` (the DeepCoder table)."""

    def __init__(self, counts: Mapping[int | str, int]) -> None:
        pairs = sorted((float(k), int(v)) for k, v in counts.items())
        if not pairs or any(v < 0 for _, v in pairs):
            raise ValueError("rating table needs at least one rating and non-negative counts")
        self.values = [k for k, _ in pairs]
        self.cumulative = list(np.cumsum([v for _, v in pairs]).tolist())
        self.total = self.cumulative[-1]
        if self.total <= 0:
            raise ValueError("rating table has no users")

    @classmethod
    def load(cls, path: str | Path) -> RatingTable:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"rating table not found: {path}")
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object {{rating: count}}")
        return cls(data)

    def below(self, rating: float) -> int:
        """Number of users rated strictly below ``rating``."""
        i = bisect.bisect_left(self.values, float(rating))
        return int(self.cumulative[i - 1]) if i > 0 else 0

    def percentile(self, rating: float) -> float:
        """% of users rated strictly below ``rating`` (0..100)."""
        return 100.0 * self.below(rating) / self.total


def elo_report(est: EloEstimate, table: RatingTable, table_source: str) -> dict:
    """A JSON-ready record: estimate, interval, percentiles, and the method text."""
    fields = asdict(est)
    fields["wald_se"] = est.wald_se if math.isfinite(est.wald_se) else None  # JSON has no infinity
    fields["alpha"] = round(est.alpha, 10)
    return {
        **fields,
        "percentile": table.percentile(est.rating),
        "percentile_ci": [table.percentile(est.ci_low), table.percentile(est.ci_high)],
        "rating_table": table_source,
        "rating_table_users": table.total,
        "method": METHOD_TEXT,
    }
