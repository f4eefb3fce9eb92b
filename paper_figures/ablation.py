"""An ablation's own table: each value of one factor (rank, layer, quantiles, min weight, positive scale) against the
ablated domain's metrics, values sorted numerically, the default marked; never part of the main tables.

``python -m paper_figures.ablation --factor rank --default 64 --point <model>/<value>=<files,> ... --out STEM``
writes ``STEM.md``, ``STEM.tex`` and the figure ``STEM.png``/``.pdf`` (the metric against the value): per model, one row per value, one column per benchmark (Avg@k at the largest k,
percent, with the bootstrap interval of the evaluator's metrics file)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from paper_figures.common import latex_escape, load_metrics, write_text
from paper_figures.seeds import collapse_seeds, load_problem_scores


def _numbers(value: str) -> tuple[float, ...]:
    """``8`` -> (8,); ``-2`` -> (-2,); ``0.1-0.9`` -> (0.1, 0.9) (a list of values joined by '-')."""
    parts, cur = [], ""
    for i, ch in enumerate(value):
        if ch == "-" and cur and i > 0:  # a separator: a minus sign only starts a value
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return tuple(float(x) for x in parts)


def build_rows(
    points: dict[str, str], default: str
) -> tuple[list[str], list[tuple[str, str, dict[str, str]]]]:
    """(benchmark columns, rows (model, value label, {benchmark: cell})) sorted by model, then value."""
    rows, benches = [], []
    for key, path in points.items():
        model, _, value = key.partition("/")
        files = path.split(",")
        df = collapse_seeds(load_metrics(files), load_problem_scores(files))  # the mean over seeds
        df = df[df["metric"] == "avg@k"]
        cells = {}
        for bench, sub in df.groupby("benchmark", sort=False):
            r = sub[sub["k"] == sub["k"].max()].iloc[0]
            half = (r["ci_high"] - r["ci_low"]) / 2 if not math.isnan(r["ci_high"]) else math.nan
            cells[bench] = f"{100 * r['value']:.1f} ± {100 * half:.1f}"
            if bench not in benches:
                benches.append(bench)
        label = f"{value} (default)" if value == default else value
        rows.append((model, value, label, cells))
    rows.sort(key=lambda r: (r[0], _numbers_or_text(r[1])))
    return benches, [(m, label, cells) for m, _, label, cells in rows]


def _numbers_or_text(value: str) -> tuple:
    try:
        return (0, _numbers(value))
    except ValueError:
        return (1, value)


def render(factor: str, benches: list[str], rows) -> tuple[str, str]:
    md = [f"**Ablation: {factor}** (Avg@k %, ± half the 95% interval; the main run is the default)", ""]
    md.append(f"| Model | {factor} | " + " | ".join(benches) + " |")
    md.append("|---|---|" + "---:|" * len(benches))
    for model, label, cells in rows:
        md.append(f"| {model} | {label} | " + " | ".join(cells.get(b, "—") for b in benches) + " |")
    esc = latex_escape
    tex = [r"\begin{tabular}{ll" + "r" * len(benches) + "}", r"\toprule"]
    tex.append(f"Model & {esc(factor)} & " + " & ".join(esc(b) for b in benches) + r" \\")
    tex.append(r"\midrule")
    for model, label, cells in rows:
        tex.append(
            f"{esc(model)} & {esc(label)} & " + " & ".join(esc(cells.get(b, "--")) for b in benches) + r" \\"
        )
    tex += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(md) + "\n", "\n".join(tex) + "\n"


def point_values(points: dict[str, str]) -> pd.DataFrame:
    """One row per (model, value, benchmark): Avg@k at the largest k, mean over seeds, and its interval."""
    rows = []
    for key, path in points.items():
        model, _, value = key.partition("/")
        files = path.split(",")
        df = collapse_seeds(load_metrics(files), load_problem_scores(files))
        df = df[(df["metric"] == "avg@k") & (df["benchmark"] != "macro")]
        for bench, sub in df.groupby("benchmark", sort=False):
            r = sub[sub["k"] == sub["k"].max()].iloc[0]
            rows.append(
                {
                    "model": model,
                    "value": value,
                    "benchmark": bench,
                    "mean": r["value"],
                    "low": r["ci_low"],
                    "high": r["ci_high"],
                }
            )
    return pd.DataFrame(rows)


def plot_ablation(points: dict[str, str], factor: str, default: str, out_stem: str | Path) -> list[Path]:
    """The metric against the factor's value, one panel per benchmark, one line per model, 95% intervals as error
    bars, the default value's point ringed. Values in numeric order, evenly spaced (a rank sweep 8..256 stays
    readable)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from paper_figures.common import save_figure

    data = point_values(points)
    benches = list(dict.fromkeys(data["benchmark"]))
    values = sorted(set(data["value"]), key=_numbers_or_text)
    fig, axes = plt.subplots(1, len(benches), figsize=(3.8 * len(benches), 3.0), squeeze=False)
    for ax, bench in zip(axes[0], benches, strict=True):
        for model, sub in data[data["benchmark"] == bench].groupby("model"):
            sub = sub.set_index("value").reindex(values)
            xs = range(len(values))
            ax.errorbar(
                xs,
                100 * sub["mean"],
                yerr=[100 * (sub["mean"] - sub["low"]), 100 * (sub["high"] - sub["mean"])],
                marker="o",
                capsize=2,
                lw=1.2,
                label=model,
            )
            if default in values:
                i = values.index(default)
                ax.plot([i], [100 * sub["mean"].iloc[i]], "o", ms=12, mfc="none", mec="black")
        ax.set_xticks(
            range(len(values)), [f"{v}\n(default)" if v == default else v for v in values], fontsize=8
        )
        ax.set_xlabel(factor)
        ax.set_ylabel(f"{bench}: Avg@k (%)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    if data["model"].nunique() > 1:
        from paper_figures.style import legend_outside

        legend_outside(fig, list(axes[0]))
    paths = save_figure(fig, [Path(out_stem).with_suffix(".png"), Path(out_stem).with_suffix(".pdf")])
    plt.close(fig)
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m paper_figures.ablation", description=__doc__.splitlines()[0])
    ap.add_argument("--factor", required=True)
    ap.add_argument("--default", required=True, help="the factor's default value (its row is marked)")
    ap.add_argument(
        "--point", nargs="+", required=True, help="<model>/<value>=<metrics file>[,<metrics file>...]"
    )
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    points = dict(p.split("=", 1) for p in a.point)
    benches, rows = build_rows(points, a.default)
    md, tex = render(a.factor, benches, rows)
    stem = Path(a.out)
    print(write_text(stem.with_suffix(".md"), md))
    print(write_text(stem.with_suffix(".tex"), tex))
    for p in plot_ablation(points, a.factor, a.default, stem):
        print(p)


if __name__ == "__main__":
    main()
