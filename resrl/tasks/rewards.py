"""Verifiable rewards ``(response, answer) -> float`` for math-style tasks, by name.

A reward function returns the response's correctness: ``1.0``/``0.0`` (or a bool). The task maps it to its
``correct_score``/``wrong_score`` (``resrl.tasks.base.Task.reward``).

- ``"dapo"``: ``resrl.verifiers.dapo`` (the ResRL release's scorer, veRL's ``math_dapo``): the last
  ``Answer:`` line in the last 300 characters, Minerva normalisation, exact match. Goes with the DAPO prompt.
- ``"boxed_int"``: the local exact check: the content of the last ``\\boxed{...}`` must be the integer
  ``answer`` (``"19"``, ``"19.0"``, ``"$19$"``, ``"19."`` and ``"1,019"`` style digit groups accepted). No
  fallback to unboxed numbers: a response without ``\\boxed{}`` scores 0.
- ``"math_grader"``: ``resrl.verifiers.math_grader.reward`` (math-verify equivalence; the evaluators grade with
  the same code): the last ``\\boxed{}``, else a "final answer is" phrase, else the last ``Answer:`` line.

There is no fallback between them: a reward is what its name says (the verifiers live in ``resrl.verifiers``,
so nothing here depends on the evaluators being importable).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from resrl.verifiers import dapo as dapo_verifier

RewardFn = Callable[[str, str], float]

_BOXED = "\\boxed"
_INT_RE = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_GROUPED_INT_RE = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+$")


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` in ``text`` (nested braces matched), or None if there is none
    or it never closes."""
    start = text.rfind(_BOXED + "{")
    if start < 0:
        return None
    i = start + len(_BOXED) + 1
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def parse_int(s: str) -> int | None:
    """An integer written plainly (``-7``, ``19.0``, ``1,019``, ``$19$``, ``19.``), else None."""
    s = s.strip().strip("$").strip().rstrip(".").replace("\\,", "").replace(" ", "")
    if _GROUPED_INT_RE.match(s):
        s = s.replace(",", "")
    if not _INT_RE.match(s):
        return None
    return int(s.split(".")[0])


def boxed_int_reward(response: str, answer: str) -> float:
    """1.0 if the last ``\\boxed{}`` of ``response`` holds the integer ``answer``, else 0.0."""
    boxed = last_boxed(response)
    if boxed is None:
        return 0.0
    got, want = parse_int(boxed), parse_int(str(answer))
    if want is None:
        raise ValueError(f"boxed_int reward needs an integer answer, got {answer!r}")
    return 1.0 if got is not None and got == want else 0.0


def dapo_reward(response: str, answer: str) -> float:
    """1.0 if the last ``Answer:`` line of ``response`` (last 300 characters) normalises to ``answer``, else 0.0."""
    return 1.0 if dapo_verifier.is_correct(response, str(answer)) else 0.0


def math_grader_reward(response: str, answer: str) -> float:
    """1.0 if the final answer of ``response`` is equivalent to ``answer`` (``resrl.verifiers.math_grader``)."""
    from resrl.verifiers.math_grader import reward

    return reward(response, answer)


REWARDS = ("boxed_int", "dapo", "math_grader")
#: Where each reward reads the final answer: ``"boxed"`` (``\\boxed{}``), ``"answer_line"`` (an ``Answer: ...``
#: line) or ``"any"`` (``math_grader``: boxed, a "final answer is" phrase or an answer line). A prompt must ask for
#: a form the reward reads.
ANSWER_FORMATS = {"boxed_int": "boxed", "dapo": "answer_line", "math_grader": "any"}


def get_reward(name: str) -> RewardFn:
    """The reward function called ``name`` (one of ``REWARDS``), or the function at ``"package.module:function"``
    (a verifier owned elsewhere, e.g. the code evaluator's sandbox; imported on first use)."""
    if ":" in name:
        from resrl.tasks.problem_task import import_path

        return import_path(name, "reward")  # callable, or a ValueError naming task.reward
    if name == "boxed_int":
        return boxed_int_reward
    if name == "dapo":
        return dapo_reward
    if name == "math_grader":
        return math_grader_reward
    if name == "auto":
        raise ValueError(
            "reward 'auto' was removed (it silently changed the reward with the installed packages); "
            "use math_grader (the evaluators' grader), boxed_int or dapo"
        )
    raise ValueError(f"unknown reward {name!r}; valid rewards: {', '.join(REWARDS)}")


def reward_name(fn: RewardFn) -> str:
    """Which implementation a reward function is (for logs): ``boxed_int``, ``dapo``, ``math_grader`` or the
    plug-in's ``module:function``."""
    if fn is boxed_int_reward:
        return "boxed_int"
    if fn is dapo_reward:
        return "dapo"
    if fn is math_grader_reward:
        return "math_grader"
    return f"{fn.__module__}:{fn.__qualname__}"
