"""``dapo_math``: the DAPO-Math-17k training prompts (paper §4: math RL data), from the project's parquet.

File: ``data/dapo_math_17k/dapo_math_17k.parquet`` (17,917 rows, verl format; source and licence in
data/SOURCES.md). Each row's ``prompt`` holds the bare problem as one user message and
``reward_model.ground_truth`` the answer. Rows are kept as shipped: 17,290 distinct problem texts (596 of
them on more than one row); every answer is an integer. Used in no-think mode.

Prompt (``prompt``):

- ``dapo`` (default, the ResRL release's training prompt): DAPO's instruction wrapper around the problem,
  verbatim from the DAPO-Math-17k dataset (BytedTsinghua-SIA/DAPO-Math-17k; our parquet ships it removed):
  :data:`DAPO_PROMPT_PREFIX` + problem + :data:`DAPO_PROMPT_SUFFIX`. The model is told to end with an
  ``Answer: ...`` line, which the ``dapo`` reward (``resrl.verifiers.dapo``, veRL's ``math_dapo``) reads.
- ``boxed``: the problem plus ``MATH_INSTRUCTION`` (step by step, ``\\boxed{}``), for the rewards that read
  ``\\boxed{}`` (``auto``, ``boxed_int``, ``math_grader``).

A prompt and a reward that expect different answer forms are refused (``check_reward_format``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from resrl.paths import data_dir
from resrl.tasks.base import (
    DEFAULT_CORRECT_SCORE,
    DEFAULT_WRONG_SCORE,
    Problem,
    Task,
    check_reward_format,
    check_scores,
    math_messages,
)
from resrl.tasks.rewards import RewardFn

DEFAULT_RELPATH = Path("dapo_math_17k") / "dapo_math_17k.parquet"

#: DAPO's instruction wrapper (data from the DAPO-Math-17k dataset, BytedTsinghua-SIA/DAPO-Math-17k, verbatim).
DAPO_PROMPT_PREFIX = (
    "Solve the following math problem step by step. The last line of your response should be of the form "
    "Answer: $Answer (without quotes) where $Answer is the answer to the problem.\n\n"
)
DAPO_PROMPT_SUFFIX = '\n\nRemember to put your answer on its own line after "Answer:".'
#: ``prompt`` choices -> the answer form the prompt asks for.
PROMPTS = {"dapo": "answer_line", "boxed": "boxed"}


def dapo_messages(problem: str) -> list[dict[str, str]]:
    """One user turn: DAPO's wrapper around ``problem`` (kept verbatim, as in the DAPO dataset)."""
    return [{"role": "user", "content": f"{DAPO_PROMPT_PREFIX}{problem}{DAPO_PROMPT_SUFFIX}"}]


def check_prompt_reward(prompt: str, reward: object) -> None:
    """ValueError naming ``task.prompt`` and ``task.reward`` when they expect different answer forms."""
    check_reward_format(reward, PROMPTS[prompt], f"task.prompt={prompt!r}")


def default_path() -> Path:
    return data_dir() / DEFAULT_RELPATH


@dataclass(frozen=True)
class DapoMathConfig:
    """``experiments/task/dapo_math.yaml``; ``path`` empty = ``<data_dir>/dapo_math_17k/dapo_math_17k.parquet``.

    Defaults follow the ResRL release: the DAPO prompt, the ``dapo`` reward, scores +1 / -1."""

    name: str = "dapo_math"
    path: str | None = None
    prompt: str = "dapo"
    reward: str = "dapo"
    enable_thinking: bool = False
    correct_score: float = DEFAULT_CORRECT_SCORE
    wrong_score: float = DEFAULT_WRONG_SCORE

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or self.prompt not in PROMPTS:
            raise ValueError(f"task.prompt must be one of {', '.join(PROMPTS)}, got {self.prompt!r}")
        check_prompt_reward(self.prompt, self.reward)
        check_scores(self.correct_score, self.wrong_score)


def load_rows(path: Path) -> list[tuple[int, str, str]]:
    """``(index, problem, answer)`` per row of a DAPO-Math parquet file in verl format."""
    if not path.is_file():
        raise FileNotFoundError(
            f"DAPO-Math-17k file not found: {path}. Copy dapo_math_17k.parquet there (source: data/SOURCES.md, "
            "'Training prompts'), or set task.path / $RESRL_DATA_DIR"
        )
    import pandas as pd

    df = pd.read_parquet(path)
    missing = {"prompt", "reward_model", "extra_info"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected verl format")
    rows = []
    for prompt, rm, info in zip(df["prompt"], df["reward_model"], df["extra_info"], strict=True):
        user = [m["content"] for m in prompt if m["role"] == "user"]
        if len(user) != 1:
            raise ValueError(f"{path}: row {info.get('index')} has {len(user)} user messages, expected 1")
        rows.append((int(info["index"]), user[0], str(rm["ground_truth"])))
    return rows


class DapoMathTask(Task):
    name = "dapo_math"
    splits = ("train",)

    def __init__(self, config: DapoMathConfig | None = None, reward: str | RewardFn | None = None) -> None:
        self.config = config or DapoMathConfig()
        if reward is not None:
            check_prompt_reward(self.config.prompt, reward)
        c = self.config
        super().__init__(
            reward if reward is not None else c.reward, c.enable_thinking, c.correct_score, c.wrong_score
        )
        self.path = Path(self.config.path) if self.config.path else default_path()
        self._rows: list[tuple[int, str, str]] | None = None

    def check_data(self) -> None:
        """FileNotFoundError naming the file and where to get it (``load_rows``'s message) when it is missing."""
        if not self.path.is_file():
            load_rows(self.path)

    @property
    def rows(self) -> list[tuple[int, str, str]]:
        if self._rows is None:
            self._rows = load_rows(self.path)
        return self._rows

    def size(self, split: str) -> int:
        self.check_split(split)
        return len(self.rows)

    def get(self, split: str, index: int) -> Problem:
        if not 0 <= index < self.size(split):
            raise IndexError(f"dapo_math {split} index {index} out of range [0, {self.size(split)})")
        row_index, problem, answer = self.rows[index]
        messages = dapo_messages(problem) if self.config.prompt == "dapo" else math_messages(problem)
        return Problem(id=f"dapo_math-{row_index}", prompt_messages=messages, answer=answer)
