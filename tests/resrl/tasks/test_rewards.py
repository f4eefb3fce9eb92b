"""The local boxed-integer reward, the DAPO reward and the reward registry, on hand cases (rewards return
correctness 1.0/0.0; tasks map it to their scores)."""

from __future__ import annotations

import pytest

from resrl.tasks.arith import score
from resrl.tasks.rewards import (
    ANSWER_FORMATS,
    REWARDS,
    boxed_int_reward,
    dapo_reward,
    get_reward,
    last_boxed,
    parse_int,
    reward_name,
)


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


@pytest.mark.parametrize(
    ("response", "answer", "reward"),
    [
        ("12 + 7 = 19.\nAnswer: 19", "19", 1.0),
        ("Answer: $\\boxed{19}$", "19", 1.0),
        ("so \\boxed{19}", "19", 0.0),  # no Answer line
        ("Answer: 18", "19", 0.0),
        ("Answer: 1,019", "1019", 1.0),
    ],
)
def test_dapo_reward(response, answer, reward):
    assert dapo_reward(response, answer) == reward
    assert get_reward("dapo")(response, answer) == reward


def test_reward_registry():
    assert get_reward("boxed_int") is boxed_int_reward
    assert get_reward("dapo") is dapo_reward
    grader = get_reward("math_grader")
    assert grader("\\boxed{19}", "19") == 1.0 and grader("\\boxed{18}", "19") == 0.0
    with pytest.raises(
        ValueError, match="reward 'auto' was removed"
    ):  # it switched rewards with the packages
        get_reward("auto")
    with pytest.raises(ValueError, match="unknown reward 'f1'; valid rewards: boxed_int, dapo, math_grader"):
        get_reward("f1")
    assert reward_name(boxed_int_reward) == "boxed_int" and reward_name(dapo_reward) == "dapo"
    assert set(ANSWER_FORMATS) == set(REWARDS) and ANSWER_FORMATS["dapo"] == "answer_line"
