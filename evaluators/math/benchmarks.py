"""The six math benchmarks of the paper: names, shipped files, loader.

Every file ``data/math/<name>.jsonl`` has one JSON object per line with exactly the fields
``id`` (str, unique), ``problem`` (str), ``answer`` (str, LaTeX without ``$``) and ``source`` (str).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from resrl.paths import data_dir

#: Benchmark name -> file stem under ``data/math/``, in the paper's table order.
BENCHMARKS: dict[str, str] = {
    "aime24": "aime24",
    "aime25": "aime25",
    "amc23": "amc23",
    "math500": "math500",
    "minerva": "minerva",
    "olympiad": "olympiad",
    "arith": "arith",  # held-out synthetic arithmetic (resrl.tasks.arith test split), for the CPU profile
    "arith2": "arith2",  # its harder level 2 (a + b - c): the study's unsaturated split
}
#: The six benchmarks of the paper's Table 1 (the default of an evaluation run).
PAPER_BENCHMARKS: tuple[str, ...] = ("aime24", "aime25", "amc23", "math500", "minerva", "olympiad")
#: Other spellings accepted on the command line.
ALIASES: dict[str, str] = {
    "math-500": "math500",
    "minerva_math": "minerva",
    "olympiadbench": "olympiad",
    "olympiad_bench": "olympiad",
    "amc": "amc23",
}
SCHEMA_FIELDS: tuple[str, ...] = ("id", "problem", "answer", "source")


class BenchmarkDataError(ValueError):
    """A benchmark file is missing or does not follow the schema."""


@dataclass(frozen=True)
class MathProblem:
    id: str
    problem: str
    answer: str
    source: str


def canonical_name(name: str) -> str:
    """Map a benchmark name or alias to its canonical name; unknown names list the valid ones."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in BENCHMARKS:
        raise KeyError(
            f"unknown math benchmark {name!r}; valid: {sorted(BENCHMARKS)} (aliases: {sorted(ALIASES)})"
        )
    return key


def math_data_dir() -> Path:
    """``data/math`` under the project's data root (``$RESRL_DATA_DIR`` overrides the root)."""
    return data_dir() / "math"


def benchmark_path(name: str, root: str | Path | None = None) -> Path:
    return Path(root or math_data_dir()) / f"{BENCHMARKS[canonical_name(name)]}.jsonl"


def _parse_line(path: Path, lineno: int, line: str) -> MathProblem:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise BenchmarkDataError(f"{path}:{lineno}: not valid JSON ({e.msg})") from e
    if not isinstance(obj, dict):
        raise BenchmarkDataError(f"{path}:{lineno}: expected a JSON object with fields {list(SCHEMA_FIELDS)}")
    missing = [f for f in SCHEMA_FIELDS if f not in obj]
    if missing:
        raise BenchmarkDataError(
            f"{path}:{lineno}: missing field(s) {missing}; every row needs {list(SCHEMA_FIELDS)} "
            "(re-run `python -m evaluators.math.prepare_data`)"
        )
    for f in SCHEMA_FIELDS:
        if not isinstance(obj[f], str) or not obj[f].strip():
            raise BenchmarkDataError(
                f"{path}:{lineno}: field {f!r} must be a non-empty string, got {obj[f]!r}"
            )
    return MathProblem(**{f: obj[f] for f in SCHEMA_FIELDS})


def load_benchmark(name: str, root: str | Path | None = None, limit: int | None = None) -> list[MathProblem]:
    """Load ``data/math/<name>.jsonl`` (first ``limit`` problems if given).

    Raises :class:`BenchmarkDataError` naming the file (and line) when the file is missing, empty,
    malformed, or has duplicate ids.
    """
    path = benchmark_path(name, root)
    if not path.is_file():
        raise BenchmarkDataError(
            f"math benchmark file not found: {path} (benchmark {canonical_name(name)!r}); "
            "the project ships it under data/math/ — re-create it with `python -m evaluators.math.prepare_data`"
        )
    problems: list[MathProblem] = []
    seen: set[str] = set()
    with path.open("r", encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            p = _parse_line(path, lineno, line)
            if p.id in seen:
                raise BenchmarkDataError(f"{path}:{lineno}: duplicate id {p.id!r}")
            seen.add(p.id)
            problems.append(p)
    if not problems:
        raise BenchmarkDataError(f"math benchmark file is empty: {path}")
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1 or None, got {limit}")
        problems = problems[:limit]
    return problems
