"""Training curves per method from the trainer's ``metrics.jsonl``: reward, pass rate, entropy, response
length, grad norm and the ResRL weight statistics."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from paper_figures.common import METHOD_LABELS, save_figure  # noqa: E402

PANELS = [
    ("reward_mean", "reward"),
    ("pass_rate", "pass rate"),
    ("entropy", "token entropy"),
    ("response_length", "response length"),
    ("grad_norm", "grad norm"),
    ("resrl/weight_mean", "ResRL mean weight"),
    ("resrl/frac_at_min", "ResRL frac. at min weight"),
]


def read_records(path: Path) -> list[dict]:
    out = []
    for line in Path(path).read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a crash-truncated last line
    return out


def plot_training(runs: dict[str, Path], out_stem: str | Path) -> list[Path]:
    """``runs``: label (method) -> metrics.jsonl. Panels without data in any run are left out."""
    data = {label: read_records(p) for label, p in runs.items()}
    panels = [(k, t) for k, t in PANELS if any(k in r for recs in data.values() for r in recs)]
    if not panels:
        raise ValueError("no training metrics to plot")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 2.9), squeeze=False)
    for ax, (key, title) in zip(axes[0], panels, strict=True):
        for label, recs in data.items():
            pts = [(r["step"], r[key]) for r in recs if key in r]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, marker="o", ms=3, label=METHOD_LABELS.get(label, label))
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    stem = Path(out_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = save_figure(fig, [stem.with_suffix(".png"), stem.with_suffix(".pdf")])
    plt.close(fig)
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m paper_figures.training_curves", description=__doc__)
    ap.add_argument("--run", nargs="+", required=True, help="LABEL=path/to/metrics.jsonl")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    runs = dict(item.split("=", 1) for item in a.run)
    for p in plot_training({k: Path(v) for k, v in runs.items()}, a.out):
        print(p)
