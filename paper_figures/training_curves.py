"""Training curves per method from the trainer's ``metrics.jsonl``: reward, pass rate, entropy, response
length, grad norm and the ResRL weight statistics."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from paper_figures.common import finish_panels  # noqa: E402
from paper_figures.style import method_style, needs_log_scale  # noqa: E402
from resrl.diagnostics.plot import add_run_option, parse_runs, read_metrics, seed_band  # noqa: E402

COLUMNS = 3  # panels per row: a grid, not one long row

PANELS = [
    ("reward_mean", "reward"),
    ("pass_rate", "pass rate"),
    ("entropy", "token entropy"),
    ("response_length", "response length"),
    ("grad_norm", "grad norm"),
    ("resrl/weight_mean", "ResRL mean weight"),
    ("resrl/frac_at_min", "ResRL frac. at min weight"),
    ("resrl/subspace_energy_at_k", "ResRL: energy held at rank k"),
]


def plot_training(runs: dict[str, Path | list[Path]], out_stem: str | Path) -> list[Path]:
    """``runs``: label (method) -> metrics.jsonl, or a list of them (one per seed: the line is the seeds' mean, the
    light band their range). Panels without data in any run are left out."""
    data = {
        label: [read_metrics(q) for q in ([p] if isinstance(p, (str, Path)) else p)]
        for label, p in runs.items()
    }
    panels = [
        (k, t) for k, t in PANELS if any(k in r for seeds in data.values() for recs in seeds for r in recs)
    ]
    if not panels:
        raise ValueError("no training metrics to plot")
    cols = min(COLUMNS, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), squeeze=False)
    for ax, (key, title) in zip(axes.flat, panels, strict=False):
        lines = []
        for label, seeds in data.items():
            xs, ys, lo, hi = seed_band(seeds, key)
            if xs:
                style = method_style(label)
                ax.plot(
                    xs, ys, marker=style["marker"], ms=3, color=style["color"], label=style["label"], lw=1.2
                )
                if len(seeds) > 1:
                    ax.fill_between(xs, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
                lines.append(ys)
        if needs_log_scale(lines):  # one method's magnitude would flatten the others (FlowRL's grad norm)
            ax.set_yscale("log")
            title += " (log)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    return finish_panels(fig, list(axes.flat), len(panels), out_stem)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m paper_figures.training_curves", description=__doc__)
    add_run_option(ap)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    runs = parse_runs(a.run)
    for p in plot_training({k: [Path(q) for q in v] for k, v in runs.items()}, a.out):
        print(p)
