"""An ablation's own table: each value of one factor (rank, layer, quantiles, min weight, positive scale) against the
ablated domain's metrics, values sorted numerically, the default marked; never part of the main tables.

``python -m paper_figures.ablation --factor rank --default 64 --point <model>/<value>=<files,> ... --out STEM``
writes ``STEM.md``, ``STEM.tex`` and the figure ``STEM.png``/``.pdf`` (the metric against the value): per model, one
row per value; per benchmark, Avg@k at the largest k in percent with its interval over seeds and problems
(:mod:`paper_figures.seeds`) and, where the evaluator wrote per-problem scores, the value minus the default paired
over the same problems."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from paper_figures.common import latex_escape, load_metrics, write_text
from paper_figures.seed_stats import Interval, paired_difference
from paper_figures.seeds import ALPHA, N_BOOT, collapse_seeds, load_problem_scores, score_matrix


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


def _numbers_or_text(value: str) -> tuple:
    try:
        return (0, _numbers(value))
    except ValueError:
        return (1, value)


@dataclass
class Point:
    """One value of the factor for one model, read once from its metrics files (one per seed)."""

    model: str
    value: str
    top: pd.DataFrame  # collapsed Avg@k rows (mean over seeds, interval) at each benchmark's largest k
    problems: pd.DataFrame  # the per-problem scores beside its files (empty when the evaluator wrote none)


def load_points(points: dict[str, str]) -> list[Point]:
    """``{"<model>/<value>": "<metrics file>[,<metrics file>...]"}`` -> the points, each file read and each cell's
    interval bootstrapped once for the table, the differences and the figure."""
    loaded = []
    for key, path in points.items():
        model, _, value = key.partition("/")
        files = path.split(",")
        problems = load_problem_scores(files)
        df = collapse_seeds(load_metrics(files), problems)  # the mean over seeds
        df = df[(df["metric"] == "avg@k") & (df["benchmark"] != "macro")]
        top = df[df["k"] == df.groupby("benchmark")["k"].transform("max")]
        loaded.append(Point(model, value, top, problems))
    return loaded


def point_values(points: list[Point]) -> pd.DataFrame:
    """One row per (model, value, benchmark): ``method`` (the point's label), Avg@k at the largest ``k``, mean over
    seeds (``mean``), its interval (``low``, ``high``)."""
    rows = [
        {
            "model": p.model,
            "value": p.value,
            "benchmark": r["benchmark"],
            "method": r["method"],
            "k": int(r["k"]),
            "mean": r["value"],
            "low": r["ci_low"],
            "high": r["ci_high"],
        }
        for p in points
        for _, r in p.top.iterrows()
    ]
    return pd.DataFrame(rows, columns=["model", "value", "benchmark", "method", "k", "mean", "low", "high"])


def default_differences(points: list[Point], default: str) -> dict[tuple[str, str, str], Interval]:
    """{(model, value, benchmark): value minus the default} paired over the same problems (seeds and problems
    resampled, :func:`paper_figures.seed_stats.paired_difference`), for every non-default value whose per-problem
    scores and the default's cover the same problems."""
    defaults = {p.model: p for p in points if p.value == default}
    out = {}
    for p in points:
        base = defaults.get(p.model)
        if p.value == default or base is None:
            continue
        for _, r in p.top.iterrows():
            same = base.top[(base.top["benchmark"] == r["benchmark"]) & (base.top["k"] == r["k"])]
            if not len(same):
                continue
            a = score_matrix(p.problems, p.model, r["method"], r["benchmark"], "avg@k", r["k"])
            b = score_matrix(base.problems, p.model, same["method"].iloc[0], r["benchmark"], "avg@k", r["k"])
            if a is not None and b is not None and a.shape[1] == b.shape[1]:
                out[(p.model, p.value, r["benchmark"])] = paired_difference(a, b, N_BOOT, ALPHA)
    return out


def build_rows(
    data: pd.DataFrame, diffs: dict[tuple[str, str, str], Interval], default: str
) -> tuple[list[str], list[tuple[str, str, dict[str, str]]]]:
    """(column names, rows (model, value label, {column: cell})) sorted by model, then value: per benchmark the
    Avg@k cell (mean ± half its interval) and, where per-problem scores allow, ``<benchmark> minus default`` (the
    paired difference with its interval, in points). ``data``: :func:`point_values`; ``diffs``:
    :func:`default_differences`."""
    columns = []
    for bench in dict.fromkeys(data["benchmark"]):
        columns.append(bench)
        if any(b == bench for _, _, b in diffs):
            columns.append(f"{bench} minus default")
    rows = []
    for (model, value), sub in data.groupby(["model", "value"], sort=False):
        cells = {}
        for _, r in sub.iterrows():
            half = (r["high"] - r["low"]) / 2 if not math.isnan(r["high"]) else math.nan
            cells[r["benchmark"]] = f"{100 * r['mean']:.1f} ± {100 * half:.1f}"
            d = diffs.get((model, value, r["benchmark"]))
            if d is not None:
                cells[f"{r['benchmark']} minus default"] = (
                    f"{100 * d.mean:+.1f} [{100 * d.low:+.1f}, {100 * d.high:+.1f}]"
                )
            elif value == default:
                cells[f"{r['benchmark']} minus default"] = "—"
        label = f"{value} (default)" if value == default else value
        rows.append((model, value, label, cells))
    rows.sort(key=lambda r: (r[0], _numbers_or_text(r[1])))
    return columns, [(m, label, cells) for m, _, label, cells in rows]


def render(factor: str, columns: list[str], rows) -> tuple[str, str]:
    md = [
        f"**Ablation: {factor}** (Avg@k %, ± half the 95% interval; the main run is the default; "
        '"minus default": paired over the same problems, points, 95% interval)',
        "",
    ]
    md.append(f"| Model | {factor} | " + " | ".join(columns) + " |")
    md.append("|---|---|" + "---:|" * len(columns))
    for model, label, cells in rows:
        md.append(f"| {model} | {label} | " + " | ".join(cells.get(c, "—") for c in columns) + " |")
    esc = latex_escape
    tex = [r"\begin{tabular}{ll" + "r" * len(columns) + "}", r"\toprule"]
    tex.append(f"Model & {esc(factor)} & " + " & ".join(esc(c) for c in columns) + r" \\")
    tex.append(r"\midrule")
    for model, label, cells in rows:
        tex.append(
            f"{esc(model)} & {esc(label)} & " + " & ".join(esc(cells.get(c, "--")) for c in columns) + r" \\"
        )
    tex += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(md) + "\n", "\n".join(tex) + "\n"


def plot_ablation(data: pd.DataFrame, factor: str, default: str, out_stem: str | Path) -> list[Path]:
    """The metric against the factor's value, one panel per benchmark, one line per model, 95% intervals as error
    bars, the default value's point ringed. Values in numeric order, evenly spaced (a rank sweep 8..256 stays
    readable). ``data``: :func:`point_values`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from paper_figures.common import save_figure

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
    points = load_points(dict(p.split("=", 1) for p in a.point))
    data = point_values(points)
    columns, rows = build_rows(data, default_differences(points, a.default), a.default)
    md, tex = render(a.factor, columns, rows)
    stem = Path(a.out)
    print(write_text(stem.with_suffix(".md"), md))
    print(write_text(stem.with_suffix(".tex"), tex))
    for p in plot_ablation(data, a.factor, a.default, stem):
        print(p)


if __name__ == "__main__":
    main()
