"""veRL reward: the task's verifier (``compute_score``) and the ``resrl`` reward manager that shapes it.

``compute_score`` is veRL's custom reward function (``reward.custom_reward_function``); it looks up our
reward by the name stored in each row's ``extra_info['reward']`` (``auto``, ``boxed_int``, ``dapo``,
``math_grader``; see :mod:`resrl.tasks.rewards`) and maps its verdict to ``extra_info['correct_score']`` /
``extra_info['wrong_score']`` (the task's scores, written by ``launch.write_train_parquet``; absent: +1 / -1,
the defaults of ``resrl.tasks.base.Task``), as ``Task.reward`` does in the local trainer. The ``resrl`` reward
manager (veRL's reward-loop registry) calls it through veRL's naive manager, then applies
``method.shape_rewards(score, response_length)``: ResRL's length-scaled positive reward, DAPO's soft overlong
punishment, identity otherwise. ``reward_extra_info`` carries the raw score as ``acc`` (DAPO's group filter
reads it) plus ``shaped_reward`` and ``response_length``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch
from verl.experimental.reward_loop.reward_manager import register
from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager

from resrl.backends.verl.config import REWARD_MANAGER, method_from_env
from resrl.tasks.base import DEFAULT_CORRECT_SCORE, DEFAULT_WRONG_SCORE, check_scores
from resrl.tasks.rewards import RewardFn, get_reward


@lru_cache(maxsize=8)
def _reward_fn(name: str) -> RewardFn:
    return get_reward(name)


def compute_score(
    data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None, **_: Any
) -> float:
    """veRL's reward-function signature -> the task's score (float): ``correct_score`` when our verifier says
    correct, else ``wrong_score``."""
    info = extra_info or {}
    name = info.get("reward") or "math_grader"
    if info.get("scored"):  # a scorer (e.g. ToolRL's format + correctness reward): its value is the score
        return float(_reward_fn(str(name))(solution_str, str(ground_truth)))
    correct = info.get("correct_score", DEFAULT_CORRECT_SCORE)
    wrong = info.get("wrong_score", DEFAULT_WRONG_SCORE)
    check_scores(correct, wrong, prefix="extra_info.")
    value = _reward_fn(str(name))(solution_str, str(ground_truth))
    verdict = float(value)
    if verdict not in (0.0, 1.0):
        raise ValueError(f"reward {name!r} returned {value!r}; expected correctness 1.0/0.0 or a bool")
    return float(correct) if verdict == 1.0 else float(wrong)


@lru_cache(maxsize=1)
def _method():
    return method_from_env()


def shape(score: float, length: int) -> float:
    """``method.shape_rewards`` for one response (score: verifier output; length: response tokens)."""
    return float(
        _method().shape_rewards(torch.tensor([score], dtype=torch.float32), torch.tensor([length]))[0]
    )


@register(REWARD_MANAGER)
class ResRLRewardManager(NaiveRewardManager):
    """veRL's naive manager (decode, call ``compute_score``) followed by the method's reward shaping."""

    async def run_single(self, data) -> dict:
        out = await super().run_single(data)
        item = data[-1:][0]
        response_length = item.batch["responses"].shape[-1]
        length = int(item.batch["attention_mask"][-response_length:].sum())
        score = float(out["reward_score"])
        shaped = shape(score, length)
        info = dict(out.get("reward_extra_info") or {})
        info.update(acc=score, shaped_reward=shaped, response_length=length)
        return {"reward_score": shaped, "reward_extra_info": info}
