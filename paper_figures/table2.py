"""Table 2: code. LiveCodeBench Avg@k and Pass@k, CodeForces Elo rating and percentile, HumanEval+ Avg@k."""

from __future__ import annotations

from paper_figures.cli import table_main
from paper_figures.common import Column


def columns(k: int | None) -> list[Column]:
    return [
        Column("LCB Avg@k", "livecodebench", "avg@k", k),
        Column("LCB Pass@k", "livecodebench", "pass@k", k),
        Column("CF Rating", "codeforces", "elo", None, scale=1.0),
        Column("CF Percentile", "codeforces", "percentile", None, scale=1.0),
        Column("HumanEval+ Avg@k", "humaneval_plus", "avg@k", k),
    ]


if __name__ == "__main__":
    table_main("table2", "Table 2: code generation", "tab:code", columns)
