"""Intervals over seeds and problems and paired differences (paper_figures/seed_stats.py), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from paper_figures.seed_stats import paired_difference, seed_problem_interval, separated


def test_no_noise_gives_a_point_interval():
    iv = seed_problem_interval(np.full((3, 5), 0.4))
    assert (iv.mean, iv.low, iv.high) == pytest.approx((0.4, 0.4, 0.4))


def test_seed_noise_alone_widens_the_interval():
    # every problem alike, seeds differ: 0.2 and 0.6. The replicate means are the means of two drawn seeds:
    # 0.2 (both low, prob 1/4), 0.4 (1/2), 0.6 (1/4): the 95% interval is [0.2, 0.6]
    iv = seed_problem_interval([[0.2] * 4, [0.6] * 4], n_boot=4000)
    assert iv.mean == pytest.approx(0.4) and iv.low == pytest.approx(0.2) and iv.high == pytest.approx(0.6)


def test_problem_noise_alone_is_the_problem_bootstrap():
    rng = np.random.default_rng(1)
    row = rng.random(200)
    iv = seed_problem_interval([row, row, row], n_boot=3000)  # identical seeds: only problems vary
    se = row.std(ddof=0) / np.sqrt(len(row))
    assert iv.high - iv.low == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_pairing_removes_the_shared_difficulty():
    # problem difficulties vary a lot, A is exactly 0.05 above B on every problem and every seed
    rng = np.random.default_rng(2)
    base = rng.random(100)
    a, b = np.stack([base + 0.05] * 2), np.stack([base] * 3)
    d = paired_difference(a, b)
    assert (d.mean, d.low, d.high) == pytest.approx((0.05, 0.05, 0.05))
    assert separated(a, b) and not separated(b, a)
    # unpaired intervals of the two overlap widely: only the paired difference separates them
    ia, ib = seed_problem_interval(a), seed_problem_interval(b)
    assert ia.low < ib.high


def test_a_difference_inside_the_seed_noise_is_not_separated():
    a = [[0.50] * 10, [0.70] * 10]  # seeds 0.5 and 0.7
    b = [[0.55] * 10, [0.60] * 10]
    assert not separated(a, b) and not separated(b, a)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="same problems"):
        paired_difference([[1.0, 0.0]], [[1.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"\[seeds, problems\]"):
        seed_problem_interval([1.0, 0.0])
