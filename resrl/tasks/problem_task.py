"""Single-turn tasks whose problems and verifier come from elsewhere: ``kind: problems`` task configs.

A config names a *loader* and a *reward* by import path (``"package.module:function"``), imported on first use
only, so importing ``resrl`` never imports the evaluators that own them (DeepCoder's programs are graded by the
code evaluator's sandbox; ToolRL's tool calls by ``resrl.verifiers.toolrl``). The loader is called as::

    loader(path, split, **loader_args) -> list[dict]   # each {"id", "messages" | "prompt", "answer", "meta"?}

``path`` is the config's ``path`` (the data file or folder). When it does not exist, the task fails with one line
naming the ``source`` (dataset and version) and the ``download`` command of the config: nothing falls back to a
stand-in (a stand-in is its own task config, named ``*_tiny``, pointing at data the project ships).

The reward is either a *verifier* (``(response, answer) -> 1.0/0.0``; the task maps it to ``correct_score`` /
``wrong_score``, as every task) or, with ``scored: true``, a *scorer* whose value is the score itself (ToolRL's
format + correctness reward in [-3, 4]); a response is positive when its score is > 0, as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resrl.paths import data_dir
from resrl.tasks.base import DEFAULT_CORRECT_SCORE, DEFAULT_WRONG_SCORE, Problem, Task, check_scores
from resrl.tasks.rewards import get_reward


def import_path(spec: str, field_name: str) -> Any:
    """``"package.module:function"`` -> the function (``env_task.load_factory``), every failure a ValueError naming
    ``task.<field_name>`` (a config error, reported in one line)."""
    from resrl.tasks.env_task import load_factory

    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"task.{field_name}={spec!r}: expected 'package.module:function'")
    try:
        return load_factory(spec, field_name)
    except ImportError as err:
        raise ValueError(str(err)) from None


@dataclass
class ProblemTaskConfig:
    """``experiments/task/<name>.yaml`` with ``kind: problems`` (module docstring)."""

    name: str
    kind: str = "problems"
    loader: str = ""  # "package.module:function" returning the problems of a split
    loader_args: dict[str, Any] = field(default_factory=dict)
    path: str | None = (
        None  # data file or folder; relative paths are under the data directory ($RESRL_DATA_DIR)
    )
    source: str = ""  # the dataset and version the loader reads (named when the data is missing)
    download: str = ""  # the one command that fetches it
    splits: list[str] = field(default_factory=lambda: ["train"])
    reward: str = ""  # a reward name (resrl.tasks.rewards) or "package.module:function"
    scored: bool = False  # the reward returns the score itself (no correct/wrong mapping)
    enable_thinking: bool = False
    correct_score: float = DEFAULT_CORRECT_SCORE
    wrong_score: float = DEFAULT_WRONG_SCORE
    stand_in: bool = False  # a small offline stand-in for CPU checks, never the paper's data

    def __post_init__(self) -> None:
        for name in ("loader", "reward", "path"):
            if not getattr(self, name):
                raise ValueError(f"task {self.name!r} (kind: problems) needs task.{name}")
        if not self.splits:
            raise ValueError(f"task {self.name!r}: task.splits must name at least one split")
        check_scores(self.correct_score, self.wrong_score)

    @property
    def data_path(self) -> Path:
        p = Path(self.path).expanduser()
        return p if p.is_absolute() else data_dir() / p


class ProblemTask(Task):
    """Problems from ``config.loader``, rewarded by ``config.reward`` (module docstring)."""

    def __init__(self, config: ProblemTaskConfig) -> None:
        self.config = config
        self.name = config.name  # type: ignore[misc]
        self.splits = tuple(config.splits)  # type: ignore[misc]
        reward = get_reward(config.reward)
        super().__init__(reward, config.enable_thinking, config.correct_score, config.wrong_score)
        self._problems: dict[str, list[Problem]] = {}

    def check_data(self) -> None:
        """One line naming the dataset, the expected path and the download command when the data is missing."""
        c = self.config
        if not c.data_path.exists():
            raise FileNotFoundError(
                f"task {c.name!r}: no data at {c.data_path} ({c.source or 'see the task config'}); "
                f"fetch it with: {c.download or 'see experiments/task/' + c.name + '.yaml'}"
            )

    def _load(self, split: str) -> list[Problem]:
        self.check_split(split)
        if split not in self._problems:
            self.check_data()
            loader = import_path(self.config.loader, "loader")
            rows = loader(self.config.data_path, split, **self.config.loader_args)
            problems = []
            for i, row in enumerate(rows):
                messages = row.get("messages") or [{"role": "user", "content": row["prompt"]}]
                problems.append(
                    Problem(
                        id=str(row.get("id", f"{self.name}-{split}-{i}")),
                        prompt_messages=[dict(m) for m in messages],
                        answer=str(row["answer"]),
                        meta=dict(row.get("meta") or {}),
                    )
                )
            if not problems:
                raise ValueError(
                    f"task {self.name!r}: the loader returned no {split} problems from {self.config.data_path}"
                )
            self._problems[split] = problems
        return self._problems[split]

    def size(self, split: str) -> int:
        return len(self._load(split))

    def get(self, split: str, index: int) -> Problem:
        problems = self._load(split)
        if not 0 <= index < len(problems):
            raise IndexError(f"{self.name} {split} index {index} out of range [0, {len(problems)})")
        return problems[index]

    def reward(self, response: str, answer: str) -> float:
        if self.config.scored:
            return float(self.reward_fn(response, answer))
        return super().reward(response, answer)
