"""Pass@k curves: k = 1..K on a log2 axis, one panel per benchmark, methods overlaid with their fixed colours and
markers (``paper_figures.style``) and a small offset along k so coinciding lines stay apart, light bands (the 95%
interval over seeds and problems), one legend outside the panels."""

from __future__ import annotations

import argparse
import glob
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from paper_figures.common import _order_methods, finish_panels, load_metrics  # noqa: E402
from paper_figures.seeds import collapse_seeds, load_problem_scores  # noqa: E402
from paper_figures.style import BAND_ALPHA, method_style  # noqa: E402

#: Horizontal offset between methods, in octaves of k (a few percent of a tick: reads as the same k).
OFFSET = 0.04


def plot_passk(df: pd.DataFrame, out_stem: str | Path, model: str | None = None) -> list[Path]:
    """Draw pass@k curves of ``df`` (tidy metrics); returns the PNG and PDF paths."""
    d = df[df["metric"] == "pass@k"]
    if model is not None:
        d = d[d["model"] == model]
    benches = sorted(b for b in d["benchmark"].unique())
    if not benches:
        raise ValueError("no pass@k rows to plot")
    cols = min(3, len(benches))
    rows = math.ceil(len(benches) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    several_models = d["model"].nunique() > 1
    for ax, bench in zip(axes.flat, benches, strict=False):
        sub = d[d["benchmark"] == bench]
        groups = sorted(sub.groupby(["model", "method"]), key=lambda x: _order_methods([x[0][1]]))
        for i, ((mdl, method), g) in enumerate(groups):
            g = g.sort_values("k")
            # lines that coincide stay distinguishable: each method a small fixed offset along the log2 k axis
            xs = g["k"] * 2 ** (OFFSET * (i - (len(groups) - 1) / 2))
            style = method_style(method)
            label = style["label"] + (
                f" ({mdl})" if several_models else ""
            )  # the model only when it tells apart
            ax.plot(
                xs,
                100 * g["value"],
                marker=style["marker"],
                ms=4,
                color=style["color"],
                label=label,
                lw=1.2,
            )
            if g["ci_low"].notna().any():
                ax.fill_between(
                    xs, 100 * g["ci_low"], 100 * g["ci_high"], alpha=BAND_ALPHA, color=style["color"]
                )
        ax.set_xscale("log", base=2)
        ax.set_title(bench)
        ax.set_xlabel("k")
        ax.set_ylabel("Pass@k (%)")
        ax.grid(alpha=0.3)
    return finish_panels(fig, list(axes.flat), len(benches), out_stem)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m paper_figures.passk", description=__doc__)
    ap.add_argument("--metrics", nargs="+", required=True)
    ap.add_argument("--out", required=True, help="output stem (.png and .pdf)")
    ap.add_argument("--model", default=None)
    a = ap.parse_args()
    files = sorted({p for pat in a.metrics for p in (glob.glob(pat) or [pat])})
    df = collapse_seeds(load_metrics(files), load_problem_scores(files))  # seeds: their mean and interval
    for p in plot_passk(df, a.out, a.model):
        print(p)
