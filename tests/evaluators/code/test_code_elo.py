"""Elo maximum-likelihood rating, its interval, and the percentile table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluators.code.codeforces import load_problems, rating_table_path
from evaluators.code.elo import RatingTable, elo_mle, elo_report, estimate_elo, solve_probability


def test_solve_probability_hand_values():
    assert solve_probability(1500, 1500) == pytest.approx(0.5)
    assert solve_probability(1900, 1500) == pytest.approx(10 / 11)  # 1 / (1 + 10^-1)
    assert solve_probability(1100, 1500) == pytest.approx(1 / 11)


def test_mle_hand_values():
    # One problem of rating d solved c of n times: p(r) = c/n, so r = d + 400 log10(c / (n - c)).
    assert elo_mle([1500], [1], [2]) == pytest.approx(1500, abs=1e-6)
    assert elo_mle([1200], [3], [4]) == pytest.approx(1200 + 400 * math.log10(3), abs=1e-6)
    # Two problems d = 1000 and 2000, each solved half the time: by symmetry r = 1500.
    assert elo_mle([1000, 2000], [1, 1], [2, 2]) == pytest.approx(1500, abs=1e-6)


def test_mle_at_the_bounds():
    assert elo_mle([1500, 1600], [0, 0], [4, 4], bounds=(0, 4000)) == 0
    assert elo_mle([1500, 1600], [4, 4], [4, 4], bounds=(0, 4000)) == 4000
    est = estimate_elo([1500, 1600], [[False] * 4, [False] * 4], n_boot=50)
    assert est.at_bound == "lower" and est.rating == 0 and est.wald_se == math.inf


def test_mle_rejects_bad_input():
    with pytest.raises(ValueError):
        elo_mle([1500], [3], [2])
    with pytest.raises(ValueError):
        elo_mle([], [], [])
    with pytest.raises(ValueError):
        elo_mle([1500], [1], [2], bounds=(10, 5))


@pytest.mark.parametrize("true_rating", [900, 1500, 2100])
def test_recovers_a_known_rating_from_simulated_outcomes(true_rating):
    # The 391 rated non-interactive problems, 64 simulated attempts each from a contestant of known rating.
    ratings = np.array([p.rating for p in load_problems()], dtype=float)
    rng = np.random.default_rng(12345)
    p = solve_probability(true_rating, ratings)
    correct = [list(rng.random(64) < pi) for pi in p]
    est = estimate_elo(ratings, correct, n_boot=200, seed=0)
    assert abs(est.rating - true_rating) < 25  # Wald s.e. here is about 5 points
    assert est.ci_low < est.rating < est.ci_high
    assert est.ci_high - est.ci_low < 60
    assert est.at_bound == "" and est.n_problems == len(ratings) and est.n_samples == 64


def test_percentile_lookup_on_a_small_table():
    table = RatingTable({"1000": 1, "1500": 2, "2000": 1})
    assert table.total == 4
    assert table.percentile(500) == 0.0
    assert table.percentile(1000) == 0.0  # strictly below
    assert table.percentile(1500) == 25.0
    assert table.percentile(1500.5) == 75.0
    assert table.percentile(2500) == 100.0


def test_shipped_rating_table():
    table = RatingTable.load(rating_table_path())
    assert table.total == 89_352  # data/code/SOURCES.md
    assert table.percentile(-10_000) == 0.0 and table.percentile(10_000) == 100.0
    assert table.percentile(1200) < table.percentile(1500) < table.percentile(1800)


def test_report_documents_the_method():
    est = estimate_elo([1500, 1700], [[True, False], [False, False]], n_boot=50)
    rep = elo_report(est, RatingTable({"1000": 1, "2000": 1}), "toy")
    assert "maximum-likelihood" in rep["method"] and "bootstrap" in rep["method"]
    assert rep["percentile"] == 50.0 and rep["rating_table_users"] == 2
