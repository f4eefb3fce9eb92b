"""Table 5: NSR vs ResRL on Qwen3-32B, math Avg@k (%) on the six benchmarks and their average (the math recipe
at 32B; the columns are Table 1's)."""

from __future__ import annotations

from paper_figures.cli import table_main
from paper_figures.table1 import columns

if __name__ == "__main__":
    table_main("table5", "Table 5: NSR vs ResRL on Qwen3-32B, math Avg@k (%)", "tab:math32b", columns)
