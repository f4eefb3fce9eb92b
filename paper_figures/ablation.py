"""An ablation's own table: each value of one factor (rank, layer, quantiles, min weight, positive scale) against the
ablated domain's metrics, values sorted numerically, the default marked; never part of the main tables.

``python -m paper_figures.ablation --factor rank --default 64 --point <model>/<value>=<files,> ... --out STEM``
writes ``STEM.md`` and ``STEM.tex``: per model, one row per value, one column per benchmark (Avg@k at the largest k,
percent, with the bootstrap interval of the evaluator's metrics file)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from paper_figures.common import latex_escape, load_metrics, write_text


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
        df = load_metrics(path.split(","))
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


if __name__ == "__main__":
    main()
