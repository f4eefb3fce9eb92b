"""Prompt sources with verifiable answers: ``Task`` yields ``Problem(id, prompt_messages, answer)``.

Scores: a task's reward function says whether a response is correct; ``Task.reward`` turns that into the
task's ``correct_score`` (default +1.0) or ``wrong_score`` (default -1.0), the scale of the ResRL release
(veRL's ``math_dapo.compute_score``: +1 correct, -1 wrong). A task config may set ``wrong_score: 0.0`` for
the 0/1 scale. The trainer counts a response as positive when its score is > 0, hence ``correct_score > 0``
and ``wrong_score <= 0``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from resrl.tasks.rewards import ANSWER_FORMATS, RewardFn, get_reward

#: Math instruction appended to every math problem (no-think mode, step-by-step reasoning, boxed answer).
MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


#: Score of a correct / a wrong response (the ResRL release: veRL math_dapo, +1 / -1).
DEFAULT_CORRECT_SCORE = 1.0
DEFAULT_WRONG_SCORE = -1.0


def math_messages(problem: str) -> list[dict[str, str]]:
    """One user turn: the problem, a blank line, then ``MATH_INSTRUCTION``."""
    return [{"role": "user", "content": f"{problem.strip()}\n\n{MATH_INSTRUCTION}"}]


def check_scores(correct_score: object, wrong_score: object, prefix: str = "task.") -> None:
    """ValueError naming the field unless ``correct_score > 0 >= wrong_score`` (finite numbers): the trainer
    treats score > 0 as a positive response."""
    for name, value in (("correct_score", correct_score), ("wrong_score", wrong_score)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{prefix}{name} must be a finite number, got {value!r}")
    if not correct_score > 0:  # type: ignore[operator]
        raise ValueError(
            f"{prefix}correct_score must be > 0 (the trainer counts score > 0 as a positive), "
            f"got {correct_score!r}"
        )
    if not wrong_score <= 0:  # type: ignore[operator]
        raise ValueError(
            f"{prefix}wrong_score must be <= 0 (the trainer counts score > 0 as a positive), "
            f"got {wrong_score!r}"
        )


def check_reward_format(reward: object, prompt_format: str, prompt_desc: str) -> None:
    """ValueError (one line) when the reward named ``reward`` reads the answer in another form than the prompt
    asks for (``prompt_format``: ``"boxed"`` or ``"answer_line"``). Unknown names and callables pass here."""
    if not isinstance(reward, str) or ANSWER_FORMATS.get(reward, prompt_format) in (prompt_format, "any"):
        return
    reads = "an 'Answer:' line" if ANSWER_FORMATS[reward] == "answer_line" else "\\boxed{}"
    asks = "an 'Answer:' line" if prompt_format == "answer_line" else "\\boxed{}"
    raise ValueError(
        f"task.reward={reward!r} reads {reads} but {prompt_desc} asks for {asks}; "
        f"pick a reward that reads {asks}"
    )


@dataclass(frozen=True)
class Problem:
    """One prompt: ``prompt_messages`` (chat messages, rendered later with ``resrl.models.format_chat``) and
    the reference ``answer`` the reward compares against."""

    id: str
    prompt_messages: list[dict[str, str]]
    answer: str
    meta: dict[str, Any] = field(default_factory=dict)


class Task(ABC):
    """A set of problems per split plus a pluggable reward ``(response, answer) -> correctness``.

    ``enable_thinking`` is the chat-template thinking switch the task asks for (math: False).
    ``reward(response, answer)`` is ``correct_score`` when the reward function says correct, else
    ``wrong_score`` (module docstring).
    """

    name: ClassVar[str]
    splits: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        reward: str | RewardFn = "math_grader",
        enable_thinking: bool = False,
        correct_score: float = DEFAULT_CORRECT_SCORE,
        wrong_score: float = DEFAULT_WRONG_SCORE,
    ) -> None:
        check_scores(correct_score, wrong_score)
        self.reward_fn: RewardFn = get_reward(reward) if isinstance(reward, str) else reward
        self.enable_thinking = enable_thinking
        self.correct_score = float(correct_score)
        self.wrong_score = float(wrong_score)

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise ValueError(
                f"task {self.name!r} has no split {split!r}; valid splits: {', '.join(self.splits)}"
            )

    @abstractmethod
    def size(self, split: str) -> int:
        """Number of problems in ``split``."""

    @abstractmethod
    def get(self, split: str, index: int) -> Problem:
        """Problem ``index`` (0-based) of ``split``; IndexError beyond ``size(split)``."""

    def problems(self, split: str, start: int = 0, limit: int | None = None) -> Iterator[Problem]:
        """Problems ``start, start+1, ...`` of ``split`` (at most ``limit``)."""
        self.check_split(split)
        stop = self.size(split) if limit is None else min(self.size(split), start + limit)
        for index in range(start, stop):
            yield self.get(split, index)

    def is_correct(self, response: str, answer: str) -> bool:
        """The reward function's verdict; it must return 1.0/0.0 or a bool (ValueError otherwise)."""
        value = self.reward_fn(response, answer)
        verdict = float(value)
        if verdict not in (0.0, 1.0):
            raise ValueError(
                f"task {self.name!r}: reward function returned {value!r}; a reward function returns "
                "correctness (1.0/0.0 or a bool), the task maps it to correct_score/wrong_score"
            )
        return verdict == 1.0

    def reward(self, response: str, answer: str) -> float:
        """``correct_score`` if ``response`` is correct for ``answer``, else ``wrong_score``."""
        return self.correct_score if self.is_correct(response, answer) else self.wrong_score
