"""Prompt sources with verifiable answers: ``Task`` yields ``Problem(id, prompt_messages, answer)``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from resrl.tasks.rewards import RewardFn, get_reward

#: Math instruction appended to every math problem (no-think mode, step-by-step reasoning, boxed answer).
MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def math_messages(problem: str) -> list[dict[str, str]]:
    """One user turn: the problem, a blank line, then ``MATH_INSTRUCTION``."""
    return [{"role": "user", "content": f"{problem.strip()}\n\n{MATH_INSTRUCTION}"}]


@dataclass(frozen=True)
class Problem:
    """One prompt: ``prompt_messages`` (chat messages, rendered later with ``resrl.models.format_chat``) and
    the reference ``answer`` the reward compares against."""

    id: str
    prompt_messages: list[dict[str, str]]
    answer: str
    meta: dict[str, Any] = field(default_factory=dict)


class Task(ABC):
    """A set of problems per split plus a pluggable reward ``(response, answer) -> float``.

    ``enable_thinking`` is the chat-template thinking switch the task asks for (math: False).
    """

    name: ClassVar[str]
    splits: ClassVar[tuple[str, ...]]

    def __init__(self, reward: str | RewardFn = "auto", enable_thinking: bool = False) -> None:
        self.reward_fn: RewardFn = get_reward(reward) if isinstance(reward, str) else reward
        self.enable_thinking = enable_thinking

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

    def reward(self, response: str, answer: str) -> float:
        return float(self.reward_fn(response, answer))
