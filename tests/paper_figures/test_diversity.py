"""Accuracy against diversity from evaluation samples: per-problem measures hand-computed, intervals over seeds."""

import json
import math

import pytest

from paper_figures.diversity import plot_diversity, point_summary, problem_measures


def _samples(path, problems):
    """problems: {id: [(answer, correct), ...]} -> a samples file."""
    rows = [
        {"problem_id": pid, "sample_index": i, "text": f"so it is \\boxed{{{a}}}", "correct": ok}
        for pid, samples in problems.items()
        for i, (a, ok) in enumerate(samples)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_problem_measures_hand_computed(tmp_path):
    f = _samples(
        tmp_path / "s.jsonl",
        {"same": [("1", True)] * 4, "mixed": [("1", True), ("2", False), ("3", False), ("4", False)]},
    )
    m = problem_measures(f).set_index("problem")
    assert m.loc["same", "accuracy"] == 1.0 and m.loc["mixed", "accuracy"] == 0.25
    assert m.loc["same", "answer_entropy"] == pytest.approx(0.0)
    assert m.loc["mixed", "answer_entropy"] == pytest.approx(math.log(4))  # four distinct answers
    # "so it is \boxed{a}": four words, 3 bigrams per sample; 'same' repeats them -> 3 distinct of 12
    assert m.loc["same", "distinct_2"] == pytest.approx(3 / 12)
    assert m.loc["mixed", "distinct_2"] == pytest.approx((2 + 4) / 12)  # 2 shared bigrams + one per answer
    assert m.loc["mixed", "pass_growth"] == pytest.approx(1.0 - 0.25)  # Pass@4 - Pass@1
    assert m.loc["same", "pass_growth"] == pytest.approx(0.0)


def test_point_summary_means_over_seeds_and_the_figure_is_written(tmp_path):
    a = _samples(tmp_path / "a.jsonl", {"p": [("1", True)] * 2, "q": [("1", False)] * 2})
    b = _samples(tmp_path / "b.jsonl", {"p": [("1", True)] * 2, "q": [("1", True)] * 2})
    s = point_summary([a, b], n_boot=200)
    assert s["n_seeds"] == 2 and s["n_problems"] == 2
    assert (
        s["accuracy"] == pytest.approx(0.75) and 0.0 <= s["accuracy_low"] <= 0.75 <= s["accuracy_high"] <= 1.0
    )
    paths = plot_diversity({"grpo": [a], "resrl": [a, b]}, tmp_path / "fig")
    assert {p.suffix for p in paths} == {".png", ".pdf", ".csv"}
    assert "resrl" in (tmp_path / "fig.csv").read_text()
    plot_diversity({"0.0": [a], "0.5": [b]}, tmp_path / "abl", factor="min_weight")
    assert (tmp_path / "abl.png").stat().st_size > 1000
