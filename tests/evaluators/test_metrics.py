"""Avg@k, unbiased Pass@k (hand cases, exact binomials, brute-force enumeration), bootstrap, tidy rows."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from evaluators.metrics import (
    avg_at_k,
    bootstrap_ci,
    bootstrap_macro_ci,
    compute_metric_rows,
    default_pass_ks,
    pass_at_k,
    pass_at_k_per_problem,
)


@pytest.mark.parametrize("n", [1, 2, 5, 16, 128])
def test_pass_at_k_closed_form_edges(n):
    for k in range(1, n + 1):
        assert pass_at_k(n, 0, k) == 0.0  # c = 0: never solved
        assert pass_at_k(n, n, k) == 1.0  # c = n: always solved
    for c in range(1, n + 1):
        assert pass_at_k(n, c, n) == 1.0  # k = n with any correct sample
        assert pass_at_k(n, c, 1) == pytest.approx(c / n, abs=1e-12)  # k = 1: fraction correct


def test_pass_at_k_hand_values():
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(128, 1, 64) == pytest.approx(0.5, abs=1e-12)  # C(127,64)/C(128,64) = 64/128
    assert pass_at_k(128, 2, 64) == pytest.approx(1 - (64 * 63) / (128 * 127), abs=1e-12)
    assert pass_at_k(10, 8, 3) == 1.0  # n - c = 2 < k


def _brute_force(n: int, c: int, k: int) -> Fraction:
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(samples[i] for i in s) for s in subsets), len(subsets))


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_matches_brute_force_enumeration(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(_brute_force(n, c, k)), abs=1e-12), (n, c, k)


def test_pass_at_k_stable_at_n128_against_exact_binomials():
    n = 128
    worst = 0.0
    for c in range(n + 1):
        for k in range(1, n + 1):
            exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
            worst = max(worst, abs(pass_at_k(n, c, k) - float(exact)))
    assert worst < 1e-12


@pytest.mark.parametrize("args", [(0, 0, 1), (4, 5, 1), (4, -1, 1), (4, 2, 0), (4, 2, 5)])
def test_pass_at_k_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        pass_at_k(*args)


def test_avg_at_k_hand_cases():
    assert avg_at_k([[True, False, False, False], [True, True, False, False]]) == pytest.approx(0.375)
    assert avg_at_k([[True] * 16]) == 1.0
    assert avg_at_k([[False] * 16, [False] * 16]) == 0.0
    # unequal sample counts: per-problem means 1/2 and 1/3
    assert avg_at_k([[True, False], [False, True, False]]) == pytest.approx((1 / 2 + 1 / 3) / 2)
    with pytest.raises(ValueError):
        avg_at_k([])
    with pytest.raises(ValueError):
        avg_at_k([[True], []])


def test_avg_at_k_equals_mean_pass_at_1():
    rng = np.random.default_rng(0)
    table = (rng.random((7, 16)) < 0.3).tolist()
    assert avg_at_k(table) == pytest.approx(pass_at_k_per_problem(table, 1).mean())


def test_default_pass_ks():
    assert default_pass_ks(16) == [1, 2, 4, 8, 16]
    assert default_pass_ks(128) == [1, 2, 4, 8, 16, 32, 64, 128]
    assert default_pass_ks(200) == [1, 2, 4, 8, 16, 32, 64, 128]
    assert default_pass_ks(12) == [1, 2, 4, 8, 12]
    assert default_pass_ks(1) == [1]


def test_bootstrap_ci_properties():
    assert bootstrap_ci([0.5] * 10) == (0.5, 0.5)
    vals = [0, 0, 1, 1, 1, 0, 1, 0, 0, 1]
    lo, hi = bootstrap_ci(vals, n_boot=2000, seed=1)
    assert 0 <= lo < 0.5 < hi <= 1
    assert bootstrap_ci(vals, seed=1) == bootstrap_ci(vals, seed=1)
    glo, ghi = bootstrap_macro_ci([[1.0, 1.0], [0.0, 0.0, 0.0]])
    assert glo == ghi == 0.5


def test_compute_metric_rows_two_benchmarks():
    tables = {
        "a": [[True, False, False, False], [True, True, True, True]],  # c = 1, 4 of n = 4
        "b": [[False, False, False, False]],
    }
    rows = compute_metric_rows("m", "grpo", tables, n_boot=200)
    got = {(r.benchmark, r.metric, r.k): r for r in rows}
    assert got[("a", "avg@k", 4)].value == pytest.approx((0.25 + 1.0) / 2)
    assert got[("a", "pass@k", 2)].value == pytest.approx((0.5 + 1.0) / 2)  # pass@2(4,1) = 1 - 3/6
    assert got[("a", "pass@k", 4)].value == 1.0
    assert got[("b", "pass@k", 4)].value == 0.0
    assert got[("macro", "avg@k", 4)].value == pytest.approx((0.625 + 0.0) / 2)
    assert got[("macro", "pass@k", 2)].value == pytest.approx((0.75 + 0.0) / 2)
    assert all(r.n_samples == 4 for r in rows)
    assert {r.k for r in rows if r.metric == "pass@k"} == {1, 2, 4}
    for r in rows:
        assert r.ci_low <= r.value + 1e-12 and r.value <= r.ci_high + 1e-12


def test_compute_metric_rows_truncates_to_smallest_n_and_checks_k():
    rows = compute_metric_rows("m", "x", {"a": [[True, True, False], [False, True]]}, macro=False)
    avg = [r for r in rows if r.metric == "avg@k"][0]
    assert avg.k == 2 and avg.value == pytest.approx((1.0 + 0.5) / 2)
    with pytest.raises(ValueError, match="k=\\[4\\]"):
        compute_metric_rows("m", "x", {"a": [[True, False]]}, pass_ks=[1, 4])
