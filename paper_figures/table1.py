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
    # every column is left out when no row has a value (a CPU profile measures none of the paper's benchmarks)
    cols = [Column(header, bench, "avg@k", k, optional=True) for header, bench in MATH_BENCHMARKS]
    # Avg. as in the paper: the mean of the six benchmarks (shown only when all six were evaluated).
    avg = Column("Avg.", "", "avg@k", k, mean_of=tuple(h for h, _ in MATH_BENCHMARKS), optional=True)
    # The CPU profiles' held-out synthetic arithmetic (the training task) and its harder level 2, when present.
    return cols + [
        avg,
        Column("Arith (held-out)", "arith", "avg@k", k, optional=True),
        Column("Arith level 2 (held-out)", "arith2", "avg@k", k, optional=True),
    ]


if __name__ == "__main__":
    table_main("table1", "Table 1: math reasoning, Avg@k (%)", "tab:math", columns)
