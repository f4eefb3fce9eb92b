"""The code-benchmark interface and its registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

_REGISTRY: dict[str, CodeBenchmark] = {}


@dataclass(frozen=True)
class CodeTask:
    """One problem in benchmark-neutral form: id, the user message, the benchmark's own problem object."""

    id: str
    user: str
    problem: Any
    rating: int | None = None


class CodeBenchmark:
    """What the code evaluator asks a benchmark (``b``: the run's ``CodeBenchmarkConfig``)."""

    name: ClassVar[str] = ""
    shipped_data: ClassVar[Path]  # relative to the project's data folder

    def read_tasks(self, b: Any) -> list[CodeTask]:
        """Every problem of the benchmark's data (``b.data_path`` or the shipped file)."""
        raise NotImplementedError

    def prepare(self, tasks: list[CodeTask], b: Any, workers: int) -> Any:
        """What grading needs beyond the problems (e.g. expected outputs); None by default."""
        return None

    def grade(self, text: str, task: CodeTask, b: Any, prepared: Any) -> dict[str, Any]:
        """The graded program and its verdict fields (``correct`` among them) for one response."""
        raise NotImplementedError

    def correctness_tables(self, tasks: list[CodeTask], records: list[dict], n: int, correctness) -> dict:
        """benchmark name -> per-problem correctness lists the metrics are computed from."""
        return {self.name: correctness(tasks, records, n)}

    def extra_rows(
        self, cfg: Any, tasks: list[CodeTask], table: dict, label: str, rows: list, metrics_dir: Path
    ):
        """Rows beyond Avg@k/Pass@k (e.g. Codeforces' Elo) and a summary for run_info; none by default."""
        return rows, None


def register(cls: type[CodeBenchmark]) -> type[CodeBenchmark]:
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"code benchmark {cls.name!r} has no name or is registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> CodeBenchmark:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown code benchmark {name!r}; valid: {', '.join(names())}") from None
