"""One look for every figure: a fixed colour and marker per method (the same in Pass@k curves, training curves and
diagnostics), display names (NSR, not ``nsr``), one legend outside the data, light interval bands."""

from __future__ import annotations

import math
from collections.abc import Sequence

from paper_figures.common import METHOD_LABELS

#: Fixed colour and marker per method (Okabe & Ito's colour-blind-safe colours for the paper's methods, ResRL in
#: vermillion): a method keeps its look whatever subset of methods a figure shows; no yellow (unreadable on white).
STYLES = {
    "base": ("#000000", "o"),
    "react": ("#666666", "8"),
    "toolace": ("#8C564B", "h"),
    "ppo": ("#7F3C8D", "p"),
    "grpo": ("#0072B2", "s"),
    "dapo": ("#E69F00", "^"),
    "flowrl": ("#009E73", "v"),
    "nsr": ("#56B4E9", "D"),
    "w_reinforce": ("#CC79A7", "P"),
    "empg": ("#17BECF", "X"),
    "rest": ("#A6761D", "<"),
    "resrl": ("#D55E00", "*"),
}
_EXTRA = [("#999999", ">"), ("#1B9E77", "d"), ("#E7298A", "H"), ("#66A61E", "1"), ("#7570B3", "2")]
BAND_ALPHA = 0.12


def method_style(method: str) -> dict:
    """``color``, ``marker`` and ``label`` of a method (an unknown name gets a stable one of a few spare styles)."""
    color, marker = STYLES.get(method) or _EXTRA[sum(map(ord, method)) % len(_EXTRA)]
    return {"color": color, "marker": marker, "label": METHOD_LABELS.get(method, method)}


def needs_log_scale(series: Sequence[Sequence[float]], ratio: float = 100.0) -> bool:
    """True when the lines' magnitudes differ so much (largest / smallest typical value >= ``ratio``) that a linear
    axis would flatten all but one of them (FlowRL's grad norm next to GRPO's)."""
    typical = []
    for s in series:
        vals = sorted(abs(v) for v in s if v is not None and math.isfinite(v) and v != 0)
        if vals:
            typical.append(vals[len(vals) // 2])
    return len(typical) >= 2 and max(typical) / min(typical) >= ratio


def legend_outside(fig, axes) -> None:
    """One legend for the figure, right of the panels, each method once."""
    handles, labels = {}, []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    if handles:
        fig.legend(
            [handles[lab] for lab in labels], labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8
        )
