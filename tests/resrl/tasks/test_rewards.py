"""The local boxed-integer reward and the reward registry, on hand cases."""

from __future__ import annotations

import pytest

from resrl.tasks.arith import score
from resrl.tasks.rewards import boxed_int_reward, get_reward, last_boxed, parse_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so the answer is \\boxed{19}.", "19"),
        ("\\boxed{3} first, then \\boxed{19}", "19"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{}", ""),
        ("no box here: 19", None),
        ("\\boxed{19", None),
    ],
)
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("19", 19),
        (" -7 ", -7),
        ("19.0", 19),
        ("19.", 19),
        ("$19$", 19),
        ("1,019", 1019),
        ("19.5", None),
        ("x=19", None),
        ("", None),
        ("1,01", None),
    ],
)
def test_parse_int(s, expected):
    assert parse_int(s) == expected


@pytest.mark.parametrize(
    ("response", "answer", "reward"),
    [
        ("12 + 7 = 19, so \\boxed{19}", "19", 1.0),
        ("12 + 7 = 8, so \\boxed{8}", "19", 0.0),
        ("The answer is 19.", "19", 0.0),  # no box, no fallback
        ("\\boxed{19} ... wait, \\boxed{18}", "19", 0.0),  # the last box counts
        ("\\boxed{18} ... wait, \\boxed{19}", "19", 1.0),
        ("\\boxed{19.0}", "19", 1.0),
        ("\\boxed{}", "19", 0.0),
        ("\\boxed{-3}", "-3", 1.0),
    ],
)
def test_boxed_int_reward_and_arith_score(response, answer, reward):
    assert boxed_int_reward(response, answer) == reward
    assert score(response, answer) == reward


def test_boxed_int_needs_integer_answer():
    with pytest.raises(ValueError, match="integer answer"):
        boxed_int_reward("\\boxed{1}", "1/2")


def test_reward_registry():
    assert get_reward("boxed_int") is boxed_int_reward
    auto = get_reward("auto")
    assert auto("\\boxed{19}", "19") == 1.0 and auto("\\boxed{18}", "19") == 0.0
    with pytest.raises(ValueError, match="unknown reward 'f1'; valid rewards: auto, boxed_int, math_grader"):
        get_reward("f1")
