"""``dapo_math``: the DAPO-Math-17k training prompts (paper §4: math RL data), from the project's parquet.

File: ``data/dapo_math_17k/dapo_math_17k.parquet`` (17,917 rows, verl format; source and licence in
data/SOURCES.md). Each row's ``prompt`` holds the bare problem as one user message and
``reward_model.ground_truth`` the answer; the prompt we build is the problem plus ``MATH_INSTRUCTION``
(step by step, ``\\boxed{}``), used in no-think mode. Rows are kept as shipped: 17,290 distinct problem
texts (596 of them on more than one row); every answer is an integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from resrl.paths import data_dir
from resrl.tasks.base import Problem, Task, math_messages
from resrl.tasks.rewards import RewardFn

DEFAULT_RELPATH = Path("dapo_math_17k") / "dapo_math_17k.parquet"


def default_path() -> Path:
    return data_dir() / DEFAULT_RELPATH


@dataclass(frozen=True)
class DapoMathConfig:
    """``experiments/task/dapo_math.yaml``; ``path`` empty = ``<data_dir>/dapo_math_17k/dapo_math_17k.parquet``."""

    name: str = "dapo_math"
    path: str | None = None
    reward: str = "auto"
    enable_thinking: bool = False


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
        super().__init__(reward if reward is not None else self.config.reward, self.config.enable_thinking)
        self.path = Path(self.config.path) if self.config.path else default_path()
        self._rows: list[tuple[int, str, str]] | None = None

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
        return Problem(id=f"dapo_math-{row_index}", prompt_messages=math_messages(problem), answer=answer)
