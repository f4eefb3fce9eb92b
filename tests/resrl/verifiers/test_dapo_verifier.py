"""resrl.verifiers.dapo on hand-checked cases, one or more per rule of veRL's math_dapo scorer (the ResRL
release's reward). Every expected value below was worked out by hand from the rules and also agreed with the
release's own ``math_dapo.compute_score`` when this file was written (that check is not part of the suite)."""

from __future__ import annotations

import time

import pytest

from resrl.verifiers.dapo import WINDOW_CHARS, extract_answer, is_correct, normalize_final_answer

# (answer text, normal form): each normalisation rule
NORMALIZE_CASES = [
    ("34", "34"),
    ("$\\boxed{34}$", "34"),  # $...$ kept, then \boxed{} unwrapped, then $ dropped
    ("x = 5", "5"),  # text after the last "="
    ("k = 2 = 3", "3"),
    ("1,000", "1000"),  # commas dropped: all digits
    ("1,2,3", "123"),  # ... even when they were a list
    ("(1,2)", "(1,2)"),  # not all digits: commas kept
    ("\\frac12", "\\frac{1}{2}"),  # \frac shorthand
    ("\\frac{1}{2}", "\\frac{1}{2}"),
    ("\\frac123", "\\frac{1}{2}3"),
    ("\\sqrt2", "\\sqrt{2}"),  # \sqrt shorthand
    ("2\\sqrt3", "2\\sqrt{3}"),
    ("\\dfrac{1}{2}", "\\dfrac{1}{2}"),  # no \dfrac rule: not the same string as \frac{1}{2}
    ("5\\text{ cm}", "5"),  # spaces removed, "cm" removed, then the empty \text{} removed
    ("10 \\text{ meters}", "10"),
    ("12 \\mbox{ units}", "12"),  # mbox -> text, "units" removed
    ("90^\\circ", "90"),  # removed expressions
    ("90^{\\circ}", "90"),
    ("\\$5", "5"),  # "\$" substitution
    ("$5.$", "5"),  # ".$" -> "$"
    ("5.", "5."),  # a bare full stop stays
    ("an apple", "apple"),  # "an " and "a " substitutions
    ("2 \\text{and} 3", "23"),  # \text{and} -> ",", then all digits
    ("\\text{(B)}", "(B)"),  # \text{} unwrapped
    ("\\textbf{7}", "7"),
    ("\\overline{12}", "12"),
    ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),  # \boxed{} unwrapped to the last "}"
    ("$x$ is $7$", "x"),  # only the first $...$ pair of a line is kept
    ("  7 ", "7"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), NORMALIZE_CASES)
def test_normalize_final_answer(text, expected):
    assert normalize_final_answer(text) == expected


# (response, ground truth, correct)
SCORE_CASES = [
    ("We get 34.\nAnswer: $\\boxed{34}$", "34", True),
    ("Answer: x = 5", "5", True),
    ("Answer: 1,000", "1000", True),
    ("Answer: 1000", "1,000", True),  # the ground truth is normalised the same way
    ("Answer: \\frac12", "\\frac{1}{2}", True),
    ("answer:   7 ", "7", True),  # case-insensitive, spaces around
    ("ANSWER : 7", "7", True),
    ("Answer:\n7", "7", True),  # the spaces after ":" may include a newline
    ("Answer: 5 \\text{ cm}", "5", True),
    ("Answer: 90^\\circ", "90", True),
    ("Answer: $5.$", "5", True),
    ("Answer: 5.", "5", False),
    ("Answer: 7\nwait, no.\nAnswer: 8", "7", False),  # the last Answer line counts
    ("Answer: 8\nwait, no.\nAnswer: 7", "7", True),
    ("Answer: 7\n" + "x" * WINDOW_CHARS, "7", False),  # before the last 300 characters: not read
    ("x" * 100_000 + "\nAnswer: 7", "7", True),
    ("So the final answer is \\boxed{7}.", "7", False),  # no Answer line: wrong (no \boxed{} fallback)
    ("The answer is 7", "7", False),  # no colon
    ("Answer: The final answer is 7", "7", False),  # exact match of the whole normalised line
    ("", "7", False),
]


@pytest.mark.parametrize(("response", "ground_truth", "correct"), SCORE_CASES)
def test_is_correct(response, ground_truth, correct):
    assert is_correct(response, ground_truth) is correct


def test_extract_answer():
    assert extract_answer("Answer: 3\nAnswer: $4$ apples\n") == "$4$ apples"
    assert extract_answer("answer :\n 12") == "12"
    assert extract_answer("no answer line") is None
    assert extract_answer("Answer: 7\n" + "y" * 300) is None
    assert extract_answer("Answer: 7\n" + "y" * 280) == "7"  # 290 characters: inside the window


def test_integer_ground_truth_is_accepted():
    assert is_correct("Answer: 34", 34)  # type: ignore[arg-type]


def test_long_inputs_are_fast():
    """Only the last 300 characters are read; normalisation is linear in its input."""
    t0 = time.perf_counter()
    assert not is_correct("Answer: 1\n" * 10_000 + "x" * 100_000, "1")
    assert is_correct("\\boxed{" * 15_000 + "\nAnswer: 1", "1")
    assert normalize_final_answer("frac" * 50_000).startswith("frac{f}{r}ac")
    assert normalize_final_answer("\\text{" * 50_000 + "}") == "\\text{" * 49_999
    assert normalize_final_answer("$" * 100_000) == ""
    assert time.perf_counter() - t0 < 2.0
