"""Task scores (+1 / -1, the ResRL release's scale) through the trainer's reward shaping, hand-computed:
ResRL's length-scaled positive reward and DAPO's soft overlong punishment."""

from __future__ import annotations

import pytest
import torch

import resrl.methods as methods
from resrl.algorithms.dapo import soft_overlong_punishment
from resrl.algorithms.rewards import length_scaled_reward
from resrl.tasks import make_task


@pytest.fixture
def task():
    return make_task("arith", reward="boxed_int")  # arith.yaml: correct_score 1.0, wrong_score -1.0


def _scores(task, responses):
    return torch.tensor([task.reward(r, "15") for r in responses])


def test_length_scaled_reward_on_task_scores(task):
    scores = _scores(task, ["\\boxed{15}", "\\boxed{14}", "\\boxed{15}", "\\boxed{14}", "\\boxed{15}"])
    assert scores.tolist() == [1.0, -1.0, 1.0, -1.0, 1.0]
    lengths = torch.tensor([3800, 3800, 3500, 4096, 4096])
    shaped = length_scaled_reward(scores, lengths, max_len=4096, start=3500, end_scale=0.7)
    expected = [1 - 0.3 * (300 / 596), -1.0, 1.0, -1.0, 0.7]  # 3800 tokens: 300 of the 596 past the start
    assert shaped.tolist() == pytest.approx(expected)
    # the same through the method the trainer calls (defaults: 4096 / 3500 / 0.7)
    assert methods.build("resrl").shape_rewards(scores, lengths).tolist() == pytest.approx(expected)


def test_soft_overlong_punishment_on_task_scores(task):
    scores = _scores(task, ["\\boxed{14}", "\\boxed{15}", "\\boxed{15}", "\\boxed{14}", "\\boxed{15}"])
    assert scores.tolist() == [-1.0, 1.0, 1.0, -1.0, 1.0]
    lengths = torch.tensor([3584, 3584, 3072, 4096, 5000])
    shaped = scores + soft_overlong_punishment(lengths, max_len=4096, cache_len=1024)
    # (3072 - L) / 1024 inside the cache interval, 0 before it, -1 beyond max_len
    expected = [-1 + (3072 - 3584) / 1024, 1 + (3072 - 3584) / 1024, 1.0, -2.0, 0.0]
    assert expected[0] == -1.5
    assert shaped.tolist() == pytest.approx(expected)
    assert methods.build("dapo").shape_rewards(scores, lengths).tolist() == pytest.approx(expected)


def test_zero_one_scale_still_available():
    task = make_task("arith", reward="boxed_int", wrong_score=0.0)
    scores = torch.tensor([task.reward("\\boxed{15}", "15"), task.reward("\\boxed{14}", "15")])
    assert scores.tolist() == [1.0, 0.0]
    shaped = length_scaled_reward(scores, torch.tensor([3800, 3800]), 4096, 3500, 0.7)
    assert shaped.tolist() == pytest.approx([1 - 0.3 * (300 / 596), 0.0])


def test_train_parquet_carries_the_task_scores(tmp_path):
    """The veRL path reads the scores (and the resolved reward name) from each row's extra_info."""
    import pandas as pd

    from resrl.backends.verl.launch import write_train_parquet

    path = tmp_path / "train.parquet"
    write_train_parquet({"name": "arith", "reward": "boxed_int", "wrong_score": 0.0}, path, 2)
    info = pd.read_parquet(path)["extra_info"][1]
    assert (info["reward"], info["correct_score"], info["wrong_score"]) == ("boxed_int", 1.0, 0.0)
    write_train_parquet({"name": "arith", "reward": "boxed_int"}, path, 2)  # dataclass defaults: +1 / -1
    info = pd.read_parquet(path)["extra_info"][0]
    assert (info["reward"], info["correct_score"], info["wrong_score"]) == ("boxed_int", 1.0, -1.0)
