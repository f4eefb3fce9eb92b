"""Table 1: math Avg@k (paper: k = 16) on AIME24, AIME25, AMC23, MATH-500, Minerva, Olympiad and their average
(plus the CPU profile's held-out arithmetic when it was evaluated)."""

from __future__ import annotations

from paper_figures.cli import table_main
from paper_figures.common import Column

MATH_BENCHMARKS = [
    ("AIME24", "aime24"),
    ("AIME25", "aime25"),
    ("AMC23", "amc23"),
    ("MATH-500", "math500"),
    ("Minerva", "minerva"),
    ("Olympiad", "olympiad"),
]


def columns(k: int | None) -> list[Column]:
    cols = [Column(header, bench, "avg@k", k) for header, bench in MATH_BENCHMARKS]
    # Avg. as in the paper: the mean of the six benchmarks (shown only when all six were evaluated).
    avg = Column("Avg.", "", "avg@k", k, mean_of=tuple(h for h, _ in MATH_BENCHMARKS))
    # The CPU profile's held-out synthetic arithmetic (the training task), when present.
    return cols + [avg, Column("Arith (held-out)", "arith", "avg@k", k, optional=True)]


if __name__ == "__main__":
    table_main("table1", "Table 1: math reasoning, Avg@k (%)", "tab:math", columns)
