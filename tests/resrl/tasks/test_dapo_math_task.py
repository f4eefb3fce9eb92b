"""dapo_math: the shipped parquet, a hand-made parquet, and the missing-file error."""

from __future__ import annotations

import pandas as pd
import pytest

from resrl.tasks import MATH_INSTRUCTION, make_task
from resrl.tasks.dapo_math import DapoMathConfig, DapoMathTask, default_path


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
    assert content.startswith("In triangle $ABC$, $\\sin \\angle A = \\frac{4}{5}$")
    assert content.endswith("\n\n" + MATH_INSTRUCTION)
    assert task.enable_thinking is False


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
    assert problems[1].prompt_messages == [{"role": "user", "content": f"Find $x$.\n\n{MATH_INSTRUCTION}"}]
    assert task.reward("so \\boxed{7}", "7") == 1.0
    with pytest.raises(ValueError, match="no split 'test'; valid splits: train"):
        task.get("test", 0)


def test_missing_file_is_a_clear_error(tmp_path):
    task = make_task("dapo_math", path=str(tmp_path / "absent.parquet"))
    with pytest.raises(FileNotFoundError, match="DAPO-Math-17k file not found: .*absent.parquet.*SOURCES.md"):
        task.size("train")
