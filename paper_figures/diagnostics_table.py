"""The mechanism diagnostics in numbers: per method, each ``diag/*`` (and ``resrl/subspace_*``) quantity averaged
over the training steps that logged it, then over seeds, with the range over seeds; the table the README's
statements about LLD, head-gradient interference, alignment against weight and the subspace's conditioning quote.

    python -m paper_figures.diagnostics_table --run grpo=s0/metrics.jsonl,s1/metrics.jsonl resrl=... --out STEM

Writes ``STEM.md`` and ``STEM.csv``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from paper_figures.common import METHOD_LABELS, _order_methods, write_text
from resrl.diagnostics.plot import add_run_option, parse_runs, read_metrics, series

#: (key, what it measures) in the order the table shows them.
QUANTITIES = [
    ("diag/lld/frac_groups", "LLD: share of groups whose positives lost log-likelihood"),
    ("diag/lld/delta_pos", "Δ mean log-likelihood of positives per update"),
    ("diag/head/cos", "head-gradient cosine, positive vs negative part"),
    ("diag/align/cos", "negative tokens' alignment with the positive subspace"),
    ("diag/align/spearman_cos_weight", "Spearman(alignment, ResRL weight)"),
    ("diag/subspace/energy_at_k", "energy the rank-k subspace holds"),
    ("diag/subspace/effective_rank", "effective rank of positive tokens"),
    ("diag/subspace/spans_all", "groups whose subspace spans all positives"),
    ("diag/div/distinct_2", "distinct-2 of training samples"),
    ("diag/pass_growth", "Pass@n − Pass@1 of training groups"),
]


def summarize(runs: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (method, quantity): the mean over seeds of each seed's mean over its logged steps, the lowest
    and highest seed, and how many seeds logged it."""
    rows = []
    for method, paths in runs.items():
        per_seed = [read_metrics(p) for p in paths]
        for key, what in QUANTITIES:
            means = []
            for recs in per_seed:
                _, ys = series(recs, key)
                if ys:
                    means.append(sum(ys) / len(ys))
            if means:
                rows.append(
                    {
                        "method": method,
                        "quantity": key,
                        "what": what,
                        "mean": sum(means) / len(means),
                        "low": min(means),
                        "high": max(means),
                        "seeds": len(means),
                    }
                )
    return pd.DataFrame(rows)


def render(table: pd.DataFrame) -> str:
    methods = _order_methods(table["method"].unique())
    keys = [k for k, _ in QUANTITIES if k in set(table["quantity"])]
    lines = [
        "**Mechanism diagnostics** (mean over the logged training steps, then over seeds; [lowest, highest seed])",
        "",
        "| quantity | " + " | ".join(METHOD_LABELS.get(m, m) for m in methods) + " |",
        "|---|" + "---:|" * len(methods),
    ]
    what = dict(QUANTITIES)
    for key in keys:
        cells = []
        for m in methods:
            r = table[(table["method"] == m) & (table["quantity"] == key)]
            if not len(r) or math.isnan(r["mean"].iloc[0]):
                cells.append("—")
                continue
            r = r.iloc[0]
            cells.append(f"{r['mean']:.3g} [{r['low']:.3g}, {r['high']:.3g}]")
        lines.append(f"| {what[key]} (`{key}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m paper_figures.diagnostics_table", description=__doc__.splitlines()[0]
    )
    add_run_option(ap)
    ap.add_argument("--out", required=True, help="output stem (.md and .csv)")
    a = ap.parse_args(argv)
    runs = parse_runs(a.run)
    table = summarize(runs)
    stem = Path(a.out)
    print(write_text(stem.with_suffix(".md"), render(table)))
    print(write_text(stem.with_suffix(".csv"), table.to_csv(index=False, float_format="%.6g")))


if __name__ == "__main__":
    main()
