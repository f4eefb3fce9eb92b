"""``arith``: seeded synthetic arithmetic problems with integer answers, at three difficulty levels.

- level 1: ``a + b`` with ``a, b`` in 1..20;
- level 2: ``a + b - c`` with ``a, b`` in 10..50 and ``0 < c <= a + b`` (answer >= 0);
- level 3: a two-step word problem (buy then give away, or packs times size minus eaten), numbers < 100.

Determinism: problem ``index`` of a split depends only on ``(seed, level, split, index)`` (a SHA-256 derived
``random.Random``). Splits never overlap: a question's split is a fixed function of its text (SHA-256 of the
question, ``TEST_PERCENT`` % of texts are test), independent of the seed, and each split draws only
questions of its own kind (rejection sampling). So no question text ever appears in both splits, for any
seeds or levels. Level 1 has only 400 distinct questions (40 of them test), so its splits repeat questions;
levels 2 and 3 have tens of thousands.

Prompt: the problem plus ``MATH_INSTRUCTION`` (step by step, ``\\boxed{}``), preceded by ``few_shot`` (default
1) worked demonstration turns of the same level. The demonstration is there because SmolLM2-135M almost
never writes ``\\boxed{}`` zero-shot (measured: 0 of 16 level-1 samples correct, 3 boxed), which would give
all-zero rewards; with one demonstration it boxes > 90 % of answers. Demonstration numbers, names and items
lie outside the generators' ranges, so a demonstration is never a train or test question.

Scores: ``correct_score`` / ``wrong_score`` (default +1 / -1, the ResRL release's scale; ``resrl.tasks.base``).
The reward must read ``\\boxed{}`` (the ``dapo`` reward, which reads an ``Answer:`` line, is refused).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from resrl.tasks.base import (
    DEFAULT_CORRECT_SCORE,
    DEFAULT_WRONG_SCORE,
    Problem,
    Task,
    check_reward_format,
    check_scores,
    math_messages,
)
from resrl.tasks.rewards import RewardFn, boxed_int_reward

LEVELS = (1, 2, 3)
#: Share of question texts (in %) that belong to the test split, fixed so the partition never changes.
TEST_PERCENT = 10
_MAX_ATTEMPTS = 10_000

_NAMES = ("Tom", "Anna", "Ravi", "Mei", "Lucas", "Sara", "Omar", "Ines")
_ITEMS = ("apples", "marbles", "stickers", "books", "pencils", "cookies", "coins", "cards")


def _level1(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randint(1, 20), rng.randint(1, 20)
    return f"What is {a} + {b}?", a + b


def _level2(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randint(10, 50), rng.randint(10, 50)
    c = rng.randint(1, a + b)
    return f"What is {a} + {b} - {c}?", a + b - c


def _level3(rng: random.Random) -> tuple[str, int]:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    if rng.random() < 0.5:
        a, b = rng.randint(5, 40), rng.randint(2, 30)
        c = rng.randint(1, a + b)
        text = (
            f"{name} has {a} {item}. {name} buys {b} more {item} and then gives {c} {item} to a friend. "
            f"How many {item} does {name} have now?"
        )
        return text, a + b - c
    packs, per_pack = rng.randint(2, 9), rng.randint(2, 9)
    eaten = rng.randint(1, packs * per_pack)
    text = (
        f"{name} buys {packs} bags of {item} with {per_pack} {item} in each bag and then loses {eaten} "
        f"{item}. How many {item} does {name} have left?"
    )
    return text, packs * per_pack - eaten


_GENERATORS = {1: _level1, 2: _level2, 3: _level3}

#: One worked example per level: (question, assistant answer). Outside every generator's range.
DEMOS = {
    1: ("What is 23 + 35?", "23 + 35 = 58.\n\nThe final answer is \\boxed{58}."),
    2: ("What is 60 + 70 - 25?", "60 + 70 = 130, and 130 - 25 = 105.\n\nThe final answer is \\boxed{105}."),
    3: (
        "Zoe has 12 balloons. Zoe buys 5 more balloons and then gives 7 balloons to a friend. "
        "How many balloons does Zoe have now?",
        "Zoe has 12 + 5 = 17 balloons after buying, and 17 - 7 = 10 after giving some away.\n\n"
        "The final answer is \\boxed{10}.",
    ),
}


def prompt_messages(question: str, level: int, few_shot: int) -> list[dict[str, str]]:
    """Chat messages for ``question``: ``few_shot`` (0 or 1) demonstration turns, then the question."""
    demo: list[dict[str, str]] = []
    if few_shot:
        demo_q, demo_a = DEMOS[level]
        demo = [*math_messages(demo_q), {"role": "assistant", "content": demo_a}]
    return demo + math_messages(question)


def split_of(question: str) -> str:
    """The split (``"train"`` or ``"test"``) that owns ``question``; a fixed function of its text."""
    bucket = int.from_bytes(hashlib.sha256(question.encode()).digest()[:8], "big") % 100
    return "test" if bucket < TEST_PERCENT else "train"


def _rng(*key: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, key)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def generate(seed: int, level: int, split: str, index: int) -> tuple[str, int]:
    """(question, answer) number ``index`` of ``split`` at ``level`` for ``seed``."""
    if level not in _GENERATORS:
        raise ValueError(f"arith level must be one of {LEVELS}, got {level!r}")
    for attempt in range(_MAX_ATTEMPTS):
        question, answer = _GENERATORS[level](_rng("arith", seed, level, split, index, attempt))
        if split_of(question) == split:
            return question, answer
    raise RuntimeError(f"no {split} question found for level {level} after {_MAX_ATTEMPTS} attempts")


def score(response: str, answer: str) -> float:
    """Local exact check: 1.0 if the last ``\\boxed{}`` in ``response`` is the integer ``answer``, else 0.0
    (no unboxed-number fallback)."""
    return boxed_int_reward(response, answer)


@dataclass(frozen=True)
class ArithConfig:
    """``experiments/task/arith.yaml``. ``level`` default 1: the level where SmolLM2-135M gets mixed rewards
    (measured pass rates with ``few_shot=1``, 64 samples each: level 1 0.56, level 2 0.11, level 3 0.03)."""

    name: str = "arith"
    level: int = 1
    seed: int = 0
    train_size: int = 100_000
    test_size: int = 500
    few_shot: int = 1
    reward: str = "math_grader"
    enable_thinking: bool = False
    correct_score: float = DEFAULT_CORRECT_SCORE
    wrong_score: float = DEFAULT_WRONG_SCORE

    def __post_init__(self) -> None:
        check_scores(self.correct_score, self.wrong_score)
        check_reward_format(self.reward, "boxed", "the arith prompt")
        if self.level not in LEVELS:
            raise ValueError(f"arith level must be one of {LEVELS}, got {self.level!r}")
        if self.few_shot not in (0, 1):
            raise ValueError(f"arith few_shot must be 0 or 1, got {self.few_shot!r}")
        if self.train_size < 1 or self.test_size < 1:
            raise ValueError(
                f"arith train_size/test_size must be >= 1, got {self.train_size}/{self.test_size}"
            )


class ArithTask(Task):
    name = "arith"
    splits = ("train", "test")

    def __init__(self, config: ArithConfig | None = None, reward: str | RewardFn | None = None) -> None:
        self.config = config or ArithConfig()
        if reward is not None:
            check_reward_format(reward, "boxed", "the arith prompt")
        c = self.config
        super().__init__(
            reward if reward is not None else c.reward, c.enable_thinking, c.correct_score, c.wrong_score
        )

    def size(self, split: str) -> int:
        self.check_split(split)
        return self.config.train_size if split == "train" else self.config.test_size

    def get(self, split: str, index: int) -> Problem:
        if not 0 <= index < self.size(split):
            raise IndexError(f"arith {split} index {index} out of range [0, {self.size(split)})")
        c = self.config
        question, answer = generate(c.seed, c.level, split, index)
        return Problem(
            id=f"arith-l{c.level}-s{c.seed}-{split}-{index}",
            prompt_messages=prompt_messages(question, c.level, c.few_shot),
            answer=str(answer),
            meta={"question": question, "level": c.level},
        )
