"""Diversity metrics on hand examples."""

import math
import random

import pytest

from resrl.diagnostics.diversity import (
    answer_entropy,
    distinct_n,
    diversity_from_samples,
    diversity_metrics,
    edit_similarity,
    final_answers,
    levenshtein,
    mean_pairwise_edit_similarity,
    pass_at_k_curve,
    unique_answers,
)


def test_distinct_n_hand_example():
    rs = ["a b a b", "a b c"]
    assert distinct_n(rs, 1) == pytest.approx(3 / 7)  # a b a b a b c
    assert distinct_n(rs, 2) == pytest.approx(3 / 5)  # ab ba ab | ab bc
    assert distinct_n(rs, 3) == 1.0  # aba bab | abc
    assert distinct_n(rs, 4) == 1.0
    assert math.isnan(distinct_n(rs, 5))
    assert distinct_n([[1, 1, 1]], 1) == pytest.approx(1 / 3)  # token sequences work too


def test_answers_and_entropy():
    texts = ["so \\boxed{3} or \\boxed{ 4 }", "\\boxed{4}", "no answer", "\\boxed{x^{2}}"]
    answers = final_answers(texts)
    assert answers == ["4", "4", None, "x^{2}"]
    assert unique_answers(answers) == 2
    assert answer_entropy(["a", "a", "b", "b"]) == pytest.approx(math.log(2))
    assert answer_entropy(["a", "a", "a", "a"]) == 0.0
    assert answer_entropy(["a", None]) == pytest.approx(math.log(2))
    assert answer_entropy(["a", "b", "c", "c"]) == pytest.approx(
        -(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5))
    )
    assert final_answers(["A: 5"], extractor=lambda t: t.split(":")[1]) == ["5"]


def _naive_lev(a, b):
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[-1][-1]


def test_levenshtein():
    assert levenshtein(list("kitten"), list("sitting")) == 3
    assert levenshtein(list("flaw"), list("lawn")) == 2
    assert levenshtein([], [1, 2]) == 2 and levenshtein([1, 2], []) == 2
    rng = random.Random(0)
    for _ in range(50):
        a = [rng.randint(0, 3) for _ in range(rng.randint(0, 12))]
        b = [rng.randint(0, 3) for _ in range(rng.randint(0, 12))]
        assert levenshtein(a, b) == _naive_lev(a, b)


def test_edit_similarity():
    assert edit_similarity("a b c", "a b c") == 1.0
    assert edit_similarity("a b c", "a x c") == pytest.approx(2 / 3)
    assert edit_similarity("", "") == 1.0 and edit_similarity("a", "") == 0.0
    assert edit_similarity("a b c", "a b d", max_units=2) == 1.0  # truncated before comparing
    assert mean_pairwise_edit_similarity(["a b", "a b", "c d"]) == pytest.approx((1 + 0 + 0) / 3)
    assert math.isnan(mean_pairwise_edit_similarity(["a"]))


def test_pass_at_k_curve():
    curve = pass_at_k_curve([[True, False, False, False]])
    assert curve == {
        1: pytest.approx(0.25),
        2: pytest.approx(0.5),
        3: pytest.approx(0.75),
        4: pytest.approx(1.0),
    }
    assert pass_at_k_curve([[True, True], [False, False]], ks=[1, 2]) == {1: 0.5, 2: 0.5}
    with pytest.raises(ValueError, match="outside"):
        pass_at_k_curve([[True, False]], ks=[3])


def test_diversity_metrics_averages_over_prompts():
    texts = [["\\boxed{1} a b", "\\boxed{1} a b"], ["\\boxed{1} x", "\\boxed{2} y"]]
    m = diversity_metrics(texts, correct=[[True, False], [False, False]])
    assert m["unique_answers"] == pytest.approx(1.5)
    assert m["answer_entropy"] == pytest.approx(math.log(2) / 2)
    assert m["edit_sim"] == pytest.approx((1.0 + 0.0) / 2)
    assert m["distinct_1"] == pytest.approx((3 / 6 + 4 / 4) / 2)
    assert m["pass@1"] == pytest.approx(0.25) and m["pass@2"] == pytest.approx(0.5)
    assert m["pass_growth"] == pytest.approx(0.25)
    assert m["no_answer_frac"] == 0.0


def test_diversity_from_samples_groups_by_problem():
    rows = [
        {"problem_id": "p1", "text": "\\boxed{1}", "correct": True},
        {"problem_id": "p2", "text": "\\boxed{5}", "correct": False},
        {"problem_id": "p1", "text": "\\boxed{2}", "correct": False},
        {"problem_id": "p2", "text": "\\boxed{5}", "correct": False},
    ]
    m = diversity_from_samples(rows)
    assert m["unique_answers"] == pytest.approx(1.5)  # p1: {1, 2}; p2: {5}
    assert m["pass@1"] == pytest.approx(0.25) and m["pass@2"] == pytest.approx(0.5)
    with pytest.raises(KeyError, match="correct"):
        diversity_from_samples([{"problem_id": "p", "text": ""}])
