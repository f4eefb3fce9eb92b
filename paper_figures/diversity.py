"""Accuracy against diversity (the paper's "diversity floor"): for each point (a method, or one value of an ablated
factor such as ResRL's min_weight or pos_scale), the held-out accuracy against three diversity measures of the same
evaluation samples, each with its 95% interval over seeds and problems, so a reader sees where the gain in accuracy
starts to cost diversity.

    python -m paper_figures.diversity --point grpo=s0/arith.jsonl,s1/arith.jsonl resrl=... --out STEM [--factor F]

Per problem (its n samples): accuracy = the fraction correct (Avg@n); ``distinct-2`` (distinct word bigrams over all
bigrams of the samples), ``answer entropy`` (nats, over the extracted final answers) and ``Pass@n - Pass@1`` (what
sampling more adds), from :mod:`resrl.diagnostics.diversity`. Each point's files are its seeds' samples of the same
problems. Writes ``STEM.png``, ``STEM.pdf`` and ``STEM.csv`` (the numbers drawn).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from paper_figures.common import save_figure, write_text  # noqa: E402
from paper_figures.seed_stats import seed_problem_interval  # noqa: E402
from paper_figures.style import legend_outside, method_style  # noqa: E402
from resrl.diagnostics.diversity import diversity_metrics  # noqa: E402
from resrl.records.jsonl import read_jsonl  # noqa: E402

#: (key of the per-problem measures, axis label)
MEASURES = [
    ("distinct_2", "distinct-2"),
    ("answer_entropy", "answer entropy (nats)"),
    ("pass_growth", "Pass@n − Pass@1"),
]
ACCURACY = "accuracy"


def problem_measures(samples_path: str | Path) -> pd.DataFrame:
    """One row per problem of a samples file (``problem_id``, ``text``, ``correct`` per sample): accuracy and the
    diversity measures, problems in order of first appearance."""
    texts: dict[str, list[str]] = {}
    correct: dict[str, list[bool]] = {}
    for r in read_jsonl(samples_path):
        texts.setdefault(r["problem_id"], []).append(r["text"])
        correct.setdefault(r["problem_id"], []).append(bool(r["correct"]))
    if not texts:
        raise ValueError(f"{samples_path}: no samples")
    rows = []
    for pid in texts:
        m = diversity_metrics([texts[pid]], [correct[pid]], max_n=2)
        rows.append(
            {
                "problem": pid,
                ACCURACY: float(np.mean(correct[pid])),
                **{k: m.get(k, math.nan) for k, _ in MEASURES},
            }
        )
    return pd.DataFrame(rows)


def point_summary(files: list[str], n_boot: int = 2000) -> dict[str, float]:
    """Mean and 95% interval (over seeds and problems) of accuracy and each measure for one point's files."""
    per_seed = [problem_measures(f).set_index("problem") for f in files]
    common = sorted(set.intersection(*(set(d.index) for d in per_seed)))
    if not common:
        raise ValueError(f"{files}: the seeds share no problem")
    out = {"n_seeds": len(files), "n_problems": len(common)}
    for key in [ACCURACY, *(k for k, _ in MEASURES)]:
        matrix = np.array([d.loc[common, key].to_numpy(dtype=float) for d in per_seed])
        if np.isnan(matrix).any():  # a measure undefined on some problem (e.g. no bigram): those problems out
            matrix = matrix[:, ~np.isnan(matrix).any(axis=0)]
        if matrix.size == 0:
            out.update({key: math.nan, f"{key}_low": math.nan, f"{key}_high": math.nan})
            continue
        iv = seed_problem_interval(matrix, n_boot)
        out.update({key: iv.mean, f"{key}_low": iv.low, f"{key}_high": iv.high})
    return out


def plot_diversity(
    points: dict[str, list[str]], out_stem: str | Path, factor: str | None = None
) -> list[Path]:
    """One panel per diversity measure: accuracy (y) against it (x), error bars both ways. ``factor``: the points
    are values of that ablated factor (labelled ``factor=value``), else methods (their fixed styles)."""
    table = pd.DataFrame([{"point": p, **point_summary(files)} for p, files in points.items()])
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(4.0 * len(MEASURES), 3.3), squeeze=False)
    for ax, (key, label) in zip(axes[0], MEASURES, strict=True):
        for i, r in enumerate(table.itertuples()):
            if factor:
                style = {
                    "color": plt.cm.viridis(i / max(1, len(table) - 1)),
                    "marker": "o",
                    "label": f"{factor}={r.point}",
                }
            else:
                style = method_style(r.point)
            x, y = getattr(r, key), getattr(r, ACCURACY)
            ax.errorbar(
                x,
                100 * y,
                xerr=[[x - getattr(r, f"{key}_low")], [getattr(r, f"{key}_high") - x]],
                yerr=[
                    [100 * (y - getattr(r, f"{ACCURACY}_low"))],
                    [100 * (getattr(r, f"{ACCURACY}_high") - y)],
                ],
                fmt=style["marker"],
                color=style["color"],
                label=style["label"],
                ms=6,
                capsize=2,
                elinewidth=0.8,
            )
        ax.set_xlabel(label)
        ax.set_ylabel("accuracy, Avg@n (%)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    legend_outside(fig, list(axes[0]))
    stem = Path(out_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = save_figure(fig, [stem.with_suffix(".png"), stem.with_suffix(".pdf")])
    plt.close(fig)
    paths.append(write_text(stem.with_suffix(".csv"), table.to_csv(index=False, float_format="%.4f")))
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m paper_figures.diversity", description=__doc__.splitlines()[0]
    )
    ap.add_argument(
        "--point", nargs="+", required=True, help="LABEL=samples.jsonl[,samples.jsonl...] (one per seed)"
    )
    ap.add_argument("--factor", default=None, help="the points are values of this ablated factor")
    ap.add_argument("--out", required=True, help="output stem (.png, .pdf, .csv)")
    a = ap.parse_args(argv)
    points = {}
    for item in a.point:
        label, sep, files = item.partition("=")
        if not sep or not files:
            ap.error(f"--point {item!r}: expected LABEL=FILE[,FILE...]")
        points[label] = files.split(",")
    for p in plot_diversity(points, a.out, a.factor):
        print(p)


if __name__ == "__main__":
    main()
