"""dapo_math: the shipped parquet, a hand-made parquet, the two prompts and their rewards, the scores, and the
missing-file error."""

from __future__ import annotations

import pandas as pd
import pytest

from resrl.tasks import MATH_INSTRUCTION, make_task
from resrl.tasks.dapo_math import (
    DAPO_PROMPT_PREFIX,
    DAPO_PROMPT_SUFFIX,
    DapoMathConfig,
    DapoMathTask,
    default_path,
)

#: The DAPO-Math-17k instruction wrapper, written out here once more (the release's training prompt).
WRAPPER_HEAD = (
    "Solve the following math problem step by step. The last line of your response should be of the form "
    "Answer: $Answer (without quotes) where $Answer is the answer to the problem.\n\n"
)
WRAPPER_TAIL = '\n\nRemember to put your answer on its own line after "Answer:".'


@pytest.mark.skipif(
    not default_path().is_file(), reason="data/dapo_math_17k/dapo_math_17k.parquet not present"
)
def test_shipped_file():
    task = make_task("dapo_math")
    assert task.size("train") == 17_917
    p = task.get("train", 0)
    assert p.id == "dapo_math-0"
    assert p.answer == "34"
    content = p.prompt_messages[0]["content"]
    assert content.startswith(WRAPPER_HEAD + "In triangle $ABC$, $\\sin \\angle A = \\frac{4}{5}$")
    assert content.endswith(WRAPPER_TAIL)
    assert task.enable_thinking is False
    assert (task.correct_score, task.wrong_score) == (1.0, -1.0)
    assert task.reward("... so the sum is 34.\nAnswer: 34", p.answer) == 1.0
    assert task.reward("\\boxed{34}", p.answer) == -1.0
    boxed = (
        make_task("dapo_math", prompt="boxed", reward="boxed_int")
        .get("train", 0)
        .prompt_messages[0]["content"]
    )
    assert boxed.startswith("In triangle $ABC$") and boxed.endswith("\n\n" + MATH_INSTRUCTION)


def test_hand_made_parquet(tmp_path):
    path = tmp_path / "mini.parquet"
    pd.DataFrame(
        {
            "data_source": ["DAPO-17k", "DAPO-17k"],
            "prompt": [
                [{"content": "What is 1+1?", "role": "user"}],
                [{"content": "Find $x$.", "role": "user"}],
            ],
            "ability": ["math", "math"],
            "reward_model": [{"ground_truth": "2", "style": "rule"}, {"ground_truth": "7", "style": "rule"}],
            "extra_info": [
                {"answer": "", "index": 10, "split": "train"},
                {"answer": "", "index": 11, "split": "train"},
            ],
        }
    ).to_parquet(path)
    task = DapoMathTask(DapoMathConfig(path=str(path)))
    assert task.size("train") == 2
    problems = list(task.problems("train"))
    assert [p.id for p in problems] == ["dapo_math-10", "dapo_math-11"]
    assert [p.answer for p in problems] == ["2", "7"]
    assert problems[1].prompt_messages == [
        {"role": "user", "content": f"{WRAPPER_HEAD}Find $x$.{WRAPPER_TAIL}"}
    ]
    assert task.reward("x = 7.\nAnswer: 7", "7") == 1.0 and task.reward("Answer: 8", "7") == -1.0
    assert task.reward("so \\boxed{7}", "7") == -1.0  # the dapo reward reads only the Answer line
    with pytest.raises(ValueError, match="no split 'test'; valid splits: train"):
        task.get("test", 0)

    boxed = DapoMathTask(DapoMathConfig(path=str(path), prompt="boxed", reward="boxed_int", wrong_score=0.0))
    assert boxed.get("train", 1).prompt_messages == [
        {"role": "user", "content": f"Find $x$.\n\n{MATH_INSTRUCTION}"}
    ]
    assert boxed.reward("so \\boxed{7}", "7") == 1.0 and boxed.reward("so \\boxed{8}", "7") == 0.0


def test_dapo_wrapper_is_verbatim():
    assert DAPO_PROMPT_PREFIX == WRAPPER_HEAD and DAPO_PROMPT_SUFFIX == WRAPPER_TAIL


def test_config_defaults_follow_the_release():
    c = DapoMathConfig()
    assert (c.prompt, c.reward, c.correct_score, c.wrong_score, c.enable_thinking) == (
        "dapo",
        "dapo",
        1.0,
        -1.0,
        False,
    )
    task = make_task("dapo_math")  # experiments/task/dapo_math.yaml says the same
    assert (task.config.prompt, task.config.reward, task.correct_score, task.wrong_score) == (
        "dapo",
        "dapo",
        1.0,
        -1.0,
    )


def test_math_grader_reads_both_prompt_forms():
    """math_grader reads \\boxed{}, a "final answer is" phrase or the last "Answer:" line: valid with both prompts."""
    assert make_task("dapo_math", reward="math_grader").reward("...\nAnswer: 34", "34") == 1.0
    assert make_task("dapo_math", prompt="boxed", reward="math_grader").reward("\\boxed{34}", "34") == 1.0


@pytest.mark.parametrize("reward", ["boxed_int"])
def test_dapo_prompt_refuses_boxed_rewards(reward):
    msg = (
        rf"^task.reward='{reward}' reads \\boxed\{{\}} but task.prompt='dapo' asks for an 'Answer:' line; "
        r"pick a reward that reads an 'Answer:' line$"
    )
    with pytest.raises(ValueError, match=msg):
        make_task("dapo_math", reward=reward)
    with pytest.raises(ValueError, match=msg):
        DapoMathTask(reward=reward)
    assert make_task("dapo_math", prompt="boxed", reward=reward).config.reward == reward  # valid with boxed


def test_boxed_prompt_refuses_the_dapo_reward():
    msg = r"^task.reward='dapo' reads an 'Answer:' line but task.prompt='boxed' asks for \\boxed\{\}; "
    with pytest.raises(ValueError, match=msg):
        make_task("dapo_math", prompt="boxed")  # reward: dapo from the YAML
    with pytest.raises(ValueError, match=msg):
        DapoMathTask(DapoMathConfig(prompt="boxed", reward="boxed_int"), reward="dapo")


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match=r"^task.prompt must be one of dapo, boxed, got 'cot'$"):
        make_task("dapo_math", prompt="cot")
    with pytest.raises(ValueError, match=r"^task.correct_score must be > 0"):
        make_task("dapo_math", correct_score=-1.0)
    with pytest.raises(ValueError, match=r"^task.wrong_score must be <= 0"):
        DapoMathConfig(wrong_score=0.1)


def test_missing_file_is_a_clear_error(tmp_path):
    task = make_task("dapo_math", path=str(tmp_path / "absent.parquet"))
    with pytest.raises(FileNotFoundError, match="DAPO-Math-17k file not found: .*absent.parquet.*SOURCES.md"):
        task.size("train")
