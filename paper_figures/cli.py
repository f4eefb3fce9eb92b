"""Shared command line of the table scripts: ``--metrics FILE... --out STEM [--k K] [--reference CSV --reported
NAME...]`` (``--reported``: baselines not run here, shown with the paper's numbers and marked "(reported)")."""

from __future__ import annotations

import argparse
import glob
from collections.abc import Callable, Sequence

from paper_figures.common import (
    Column,
    Intervals,
    build_table,
    load_metrics,
    present_columns,
    reported_rows,
    write_table,
)
from paper_figures.seeds import (
    baseline_differences,
    bold_where_separated,
    collapse_seeds,
    load_problem_scores,
)


def table_main(
    name: str,
    title: str,
    label: str,
    columns_for_k: Callable[[int | None], Sequence[Column]],
    argv: Sequence[str] | None = None,
) -> None:
    ap = argparse.ArgumentParser(prog=f"python -m paper_figures.{name}", description=title)
    ap.add_argument("--metrics", nargs="+", required=True, help="tidy metrics files (globs allowed)")
    ap.add_argument("--out", required=True, help="output stem: writes <stem>.md and <stem>.tex")
    ap.add_argument(
        "--k", type=int, default=None, help="k of Avg@k/Pass@k columns (default: the largest present)"
    )
    ap.add_argument("--reference", default=None, help="the paper's numbers (results/paper/reference.csv)")
    ap.add_argument(
        "--baseline", default="grpo", help="the method the differences are taken against (default grpo)"
    )
    ap.add_argument(
        "--reported",
        nargs="*",
        default=[],
        help="paper method names to show with the paper's numbers (e.g. EMPG)",
    )
    args = ap.parse_args(argv)
    paths = sorted({p for pattern in args.metrics for p in (glob.glob(pattern) or [pattern])})
    columns = columns_for_k(args.k)
    df = load_metrics(paths)
    if args.reported:
        if not args.reference:
            ap.error("--reported needs --reference")
        import pandas as pd

        extra = reported_rows(pd.read_csv(args.reference), name, args.reported)
        df = pd.concat([df, extra], ignore_index=True) if len(extra) else df
    problems = load_problem_scores(paths)
    df = collapse_seeds(df, problems)  # one row per cell: the mean over seeds and its 95% interval
    table = build_table(df, columns)
    columns = present_columns(table, columns)
    headers = [c.header for c in columns]
    table = table[headers]
    bold, notes = bold_where_separated(table, columns, df, problems)
    kinds = sorted(set(df["interval"]))
    seeds = int(df["n_seeds"].max()) if len(df) else 0
    notes = [
        f"Each cell: the mean over {seeds} seed(s) and its 95% bootstrap interval "
        f"(resampling {' and '.join(KIND_TEXT[k] for k in kinds)}); bold only where the best is ahead of the "
        "runner-up beyond the noise.",
        *notes,
    ]
    intervals = Intervals(
        build_table(df, columns, "ci_low")[headers],
        build_table(df, columns, "ci_high")[headers],
        tuple(notes),
    )
    extra = baseline_differences(table, columns, df, problems, args.baseline)
    for p in write_table(args.out, table, columns, title, label, intervals, bold, extra):
        print(p)


#: What each kind of interval resamples (paper_figures.seeds.collapse_seeds).
KIND_TEXT = {"seeds+problems": "seeds and problems", "seeds": "seeds", "problems": "problems"}
