"""Table 3: agents. ALFWorld success per task type and overall, WebShop score and success (%)."""

from __future__ import annotations

from paper_figures.cli import table_main
from paper_figures.common import Column

ALFWORLD_TYPES = [
    ("Pick", "pick"),
    ("Look", "look"),
    ("Clean", "clean"),
    ("Heat", "heat"),
    ("Cool", "cool"),
    ("Pick2", "pick2"),
]


def columns(k: int | None) -> list[Column]:
    cols = [Column(h, f"alfworld_{t}", "success", None) for h, t in ALFWORLD_TYPES]
    return cols + [
        Column("ALFWorld All", "alfworld", "success", None),
        Column("WebShop Score", "webshop", "score", None),
        Column("WebShop Succ.", "webshop", "success", None),
    ]


if __name__ == "__main__":
    table_main("table3", "Table 3: agent tasks, success (%)", "tab:agents", columns)
