"""Shared command line of the table scripts: ``--metrics FILE... --out STEM [--k K]``."""

from __future__ import annotations

import argparse
import glob
from collections.abc import Callable, Sequence

from paper_figures.common import Column, build_table, load_metrics, present_columns, write_table


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
    args = ap.parse_args(argv)
    paths = sorted({p for pattern in args.metrics for p in (glob.glob(pattern) or [pattern])})
    columns = columns_for_k(args.k)
    table = build_table(load_metrics(paths), columns)
    columns = present_columns(table, columns)
    table = table[[c.header for c in columns]]
    for p in write_table(args.out, table, columns, title, label):
        print(p)
