"""Table 4: BFCL v3 multi-turn accuracy: overall, base, miss function, miss parameter, long context (%)."""

from __future__ import annotations

from paper_figures.cli import table_main
from paper_figures.common import Column


def columns(k: int | None) -> list[Column]:
    return [
        Column("Overall", "bfcl_multi_turn", "accuracy", None),
        Column("Base", "bfcl_base", "accuracy", None),
        Column("Miss Func", "bfcl_miss_func", "accuracy", None),
        Column("Miss Param", "bfcl_miss_param", "accuracy", None),
        Column("Long Context", "bfcl_long_context", "accuracy", None),
    ]


if __name__ == "__main__":
    table_main("table4", "Table 4: BFCL multi-turn accuracy (%)", "tab:bfcl", columns)
