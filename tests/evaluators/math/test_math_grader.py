"""The grader: the case table, extraction details, time limits on pathological answers, threads, pool."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest

from evaluators.math.grader import check_answer, extract_answer, is_correct, normalize_answer, reward
from evaluators.math.grading_pool import GradingPool

_spec = importlib.util.spec_from_file_location("grader_cases", Path(__file__).with_name("grader_cases.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
CASES = _mod.CASES


def test_table_is_large_and_covers_every_type():
    assert len(CASES) >= 60
    types = {t for *_, t in CASES}
    for needed in (
        "integer",
        "fraction",
        "radical",
        "interval",
        "set",
        "tuple",
        "unit",
        "percent",
        "text",
        "choice",
        "expression",
        "equation",
        "extraction",
    ):
        assert needed in types
        assert any(not e for *_, e, t in CASES if t == needed) or needed == "extraction", (
            f"no wrong case for {needed}"
        )


@pytest.mark.parametrize(
    "response,answer,expected,kind", CASES, ids=[f"{i}-{c[3]}" for i, c in enumerate(CASES)]
)
def test_grader_table(response, answer, expected, kind):
    assert is_correct(response, answer) is expected


@pytest.mark.parametrize(
    "response,expected",
    [
        ("\\boxed{\\frac{a}{\\sqrt{b}}}", "\\frac{a}{\\sqrt{b}}"),
        ("a \\boxed{1} b \\fbox{2} c", "2"),
        ("\\boxed{\\left\\{ 1, 2 \\right\\}}", "\\left\\{ 1, 2 \\right\\}"),
        ("\\boxed{x} and then \\boxed{", "x"),
        ("The final answer is $\\boxed{5}$", "5"),
        ("The final answer is: $x^2$.", "x^2"),
        ("no answer here", None),
        ("\\boxed{}", None),
    ],
)
def test_extract_answer(response, expected):
    assert extract_answer(response) == expected


def test_normalize_answer():
    assert normalize_answer("$10,\\!080$.") == "10080"
    assert normalize_answer("3.8e-5") == "3.8\\times 10^{-5}"
    assert normalize_answer("12 inches") == "12"
    assert normalize_answer("x^2") == "x^2"  # a variable is not a unit


def test_reward_is_the_grader():
    assert reward("so \\boxed{\\frac{1}{2}}", "0.5") == 1.0
    assert reward("so \\boxed{2}", "0.5") == 0.0


PATHOLOGICAL = {
    "100k chars": "\\boxed{" + "1+" * 50_000 + "1}",
    "deep nesting": "\\boxed{" + "\\frac{" * 3000 + "1" + "}{2}" * 3000 + "}",
    "deep sqrt": "\\boxed{" + "\\sqrt{" * 30 + "2" + "}" * 30 + "}",
    "power tower": "\\boxed{10^{10^{10}}}",
    "huge factorial": "\\boxed{1000000!}",
    "unclosed braces": "\\boxed{" + "{" * 100_000,
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_answers_return_false_within_limit(name):
    start = time.monotonic()
    assert is_correct(PATHOLOGICAL[name], "5", timeout_s=1.0) is False
    # limit 1 s + 1 s kill grace + worker start; far below a hang
    assert time.monotonic() - start < 30


def test_grader_works_from_a_thread():
    out = {}

    def run():
        out["right"] = is_correct("\\boxed{\\frac{2}{4}}", "\\frac{1}{2}")
        out["wrong"] = is_correct("\\boxed{3}", "\\frac{1}{2}")

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=120)
    assert out == {"right": True, "wrong": False}


def test_pool_grades_like_the_in_process_grader():
    preds = [extract_answer(r) for r, *_ in CASES[:20]] + ["10^{10^{10}}", None]
    golds = [a for _, a, *_ in CASES[:20]] + ["5", "5"]
    expected = [e for *_, e, _ in CASES[:20]] + [False, False]
    with GradingPool(workers=2, timeout_s=1.0, grace_s=1.0) as pool:
        assert pool.check(preds, golds) == expected
        assert pool.grade(["\\boxed{7}", "\\boxed{8}"], ["7", "7"]) == [("7", True), ("8", False)]


def test_pool_kills_a_worker_that_does_not_answer(monkeypatch):
    import evaluators.math.grading_pool as gp

    hang = "print('\"ready\"', flush=True)\nimport time\ntime.sleep(120)\n"
    monkeypatch.setattr(gp, "WORKER_CMD", [sys.executable, "-c", hang])
    start = time.monotonic()
    with GradingPool(workers=1, timeout_s=0.5, grace_s=0.5) as pool:
        assert pool.check(["1"], ["1"]) == [False]
        assert pool.n_killed == 1
    assert time.monotonic() - start < 30


def test_check_answer_rejects_none_and_long():
    assert check_answer(None, "1") is False
    assert check_answer("1" * 5000, "1" * 5000) is False


def test_dapo_answer_line_is_read_when_nothing_is_boxed():
    """A policy trained on DAPO-Math's prompt ends with "Answer: ..."; the grader reads that line (the last one, in
    the last 300 characters, as DAPO's scorer), after \\boxed{} and "final answer is" (which take precedence)."""
    from evaluators.math.grader import is_correct

    assert is_correct("Let me compute.\n2 + 2 = 4\nAnswer: 4", "4")
    assert is_correct("...\nAnswer: $\\frac{1}{2}$", "\\frac{1}{2}")
    assert is_correct("first Answer: 3\nthen Answer: 5.", "5") and not is_correct("Answer: 3\n...", "5")
    assert is_correct("Answer: 7\n" + "x" * 400, "7") is False  # outside the last 300 characters
    assert is_correct("\\boxed{9}\nAnswer: 8", "9")  # a boxed answer wins
