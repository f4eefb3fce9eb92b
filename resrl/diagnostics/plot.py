"""Plot the ``diag/*`` curves of several training runs (one line per method) from their ``metrics.jsonl``.

    python -m resrl.diagnostics.plot --run grpo=results/runs/A/metrics.jsonl --run resrl=results/runs/B/metrics.jsonl \\
        --out paper_figures/diagnostics

(``--run grpo=s0/metrics.jsonl,s1/metrics.jsonl``: one file per seed; the line is their mean, the band their range.)

writes ``diagnostics_all.{png,pdf}`` (every ``diag/*`` key found, one panel each),
``diagnostics_summary.{png,pdf}`` (the mechanism panels of :data:`SUMMARY_KEYS` that are present) and
``diagnostics_subspace.{png,pdf}`` (the positive subspace's conditioning, :data:`SUBSPACE_KEYS`, when logged).
Steps without a value for a key (diagnostics run every N steps) and NaN values are skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from resrl.records.files import default_file_mode

SUMMARY_KEYS = (
    ("diag/lld/frac_groups", "LLD fraction of groups (pos. log-lik not raised)"),
    ("diag/lld/delta_pos", "Δ mean log-lik of positives"),
    ("diag/head/cos", "head-gradient cos(pos, neg part)"),
    ("diag/head/rep_cos_mean", "representation term: mean cos(h+, h-)"),
    ("diag/head/logit_cos_mean", "logit term: mean cos(u+, u-)"),
    ("diag/align/cos", "neg. token alignment with pos. subspace"),
    ("diag/align/spearman_cos_weight", "Spearman(alignment, ResRL weight)"),
    ("diag/div/distinct_2", "distinct-2"),
    ("diag/div/edit_sim", "pairwise edit similarity"),
    ("diag/div/answer_entropy", "answer entropy (nats)"),
    ("diag/pass_growth", "Pass@n - Pass@1 (training groups)"),
)
#: The conditioning of ResRL's positive subspace (``diagnostics_subspace``): the paper's open question.
SUBSPACE_KEYS = (
    ("diag/subspace/energy_at_k", "energy held at rank k (mean over groups)"),
    ("diag/subspace/energy_at_k_min", "energy held at rank k (worst group)"),
    ("diag/subspace/effective_rank", "effective rank of positive tokens"),
    ("diag/subspace/gap_at_k", "spectral gap s_k / s_(k+1)"),
    ("diag/subspace/spans_all", "groups whose subspace spans all positives"),
)


def read_metrics(path: str | Path) -> list[dict]:
    """Records of a JSON-lines file; lines that do not parse (a crash mid-write) are skipped."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"metrics file not found: {p}")
    out = []
    for line in p.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def series(records: Sequence[Mapping], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of ``key`` over the records that have a finite value for it."""
    xs, ys = [], []
    for i, r in enumerate(records):
        v = r.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            xs.append(float(r.get("step", i + 1)))
            ys.append(float(v))
    return xs, ys


def seed_band(
    runs: Sequence[Sequence[Mapping]], key: str
) -> tuple[list[float], list[float], list[float], list[float]]:
    """(steps, mean, low, high) of ``key`` over the seeds' records ``runs`` (one record list per seed): at each
    step the mean of the seeds that logged it, and the band from the lowest to the highest seed (the range, not a
    confidence interval: three seeds do not support one). One seed: low = high = mean."""
    by_step: dict[float, list[float]] = {}
    for recs in runs:
        for x, y in zip(*series(recs, key), strict=True):
            by_step.setdefault(x, []).append(y)
    steps = sorted(by_step)
    mean = [sum(by_step[x]) / len(by_step[x]) for x in steps]
    return steps, mean, [min(by_step[x]) for x in steps], [max(by_step[x]) for x in steps]


def parse_runs(items: Sequence[str]) -> dict[str, list[str]]:
    """``METHOD=PATH[,PATH...]`` (one path per seed) -> {method: [paths]}; raises ValueError naming a bad item."""
    runs: dict[str, list[str]] = {}
    for item in items:
        method, sep, paths = item.partition("=")
        if not sep or not method or not paths:
            raise ValueError(f"--run {item!r}: expected METHOD=PATH[,PATH...] (one metrics.jsonl per seed)")
        runs.setdefault(method, []).extend(p for p in paths.split(",") if p)
    return runs


def add_run_option(ap: argparse.ArgumentParser) -> None:
    """The ``--run METHOD=PATH[,PATH...]`` option the figure and table CLIs share: several items after one
    ``--run`` or one per repeated ``--run``; each item is checked by :func:`parse_runs` as argparse reads it."""

    def item(text: str) -> str:
        try:
            parse_runs([text])
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return text

    ap.add_argument(
        "--run",
        nargs="+",
        action="extend",
        type=item,
        required=True,
        metavar="METHOD=PATH[,PATH...]",
        help="a method name and its metrics.jsonl, comma-separated per seed",
    )


def _save(fig, out: Path) -> list[Path]:
    """Atomic PNG + PDF writes of ``fig`` to ``out.png`` / ``out.pdf``."""
    written = []
    for ext in ("png", "pdf"):
        target = out.with_suffix(f".{ext}")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".{ext}", dir=target.parent)
        os.close(fd)
        os.chmod(tmp, default_file_mode())  # mkstemp makes it private; collaborators read figures too
        try:
            fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        written.append(target)
    return written


def _grid(runs: Mapping[str, Sequence[Sequence[dict]]], panels: Sequence[tuple[str, str]], title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (key, label) in zip(axes.flat, panels, strict=False):
        for i, (method, seeds) in enumerate(runs.items()):
            xs, ys, lo, hi = seed_band(seeds, key)
            if xs:
                color = colors[i % len(colors)]
                ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.3, color=color, label=method)
                if len(seeds) > 1:
                    ax.fill_between(xs, lo, hi, color=color, alpha=0.15, linewidth=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("step", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(
            handles, labels, loc="upper center", ncol=len(labels), fontsize=8, bbox_to_anchor=(0.5, 1.0)
        )
    fig.suptitle(title, fontsize=9, y=1.03)
    fig.tight_layout()
    return fig, plt


def plot_diagnostics(
    metrics_jsonl_paths: Mapping[str, str | Path | Sequence[str | Path]], out_dir: str | Path
) -> list[Path]:
    """Draw the ``diag/*`` curves of each method's run. metrics_jsonl_paths: method name -> metrics.jsonl path, or
    a list of them (one per seed: the line is their mean, the band their range).

    Returns the written files (PNG and PDF of the full grid and of the summary). Raises ValueError when no run
    has any ``diag/*`` value (diagnostics were not enabled).
    """
    if not metrics_jsonl_paths:
        raise ValueError("metrics_jsonl_paths is empty: give at least one method -> metrics.jsonl")
    runs = {
        m: [read_metrics(q) for q in ([p] if isinstance(p, (str, Path)) else p)]
        for m, p in metrics_jsonl_paths.items()
    }
    every = [recs for seeds in runs.values() for recs in seeds]
    keys = sorted(
        {
            k
            for recs in every
            for r in recs
            for k in r
            if k.startswith("diag/") and any(series(recs2, k)[0] for recs2 in every)
        }
    )
    if not keys:
        raise ValueError(
            f"no diag/* metrics in {', '.join(map(str, metrics_jsonl_paths.values()))}: "
            "were the diagnostics enabled (diagnostics.enabled=true)?"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    fig, plt = _grid(runs, [(k, k.removeprefix("diag/")) for k in keys], "mechanism diagnostics (all)")
    written += _save(fig, out / "diagnostics_all")
    plt.close(fig)
    summary = [(k, label) for k, label in SUMMARY_KEYS if k in keys]
    if summary:
        fig, plt = _grid(runs, summary, "LLD, head-gradient interference, alignment, diversity")
        written += _save(fig, out / "diagnostics_summary")
        plt.close(fig)
    subspace = [(k, label) for k, label in SUBSPACE_KEYS if k in keys]
    if subspace:
        fig, plt = _grid(runs, subspace, "conditioning of the positive subspace")
        written += _save(fig, out / "diagnostics_subspace")
        plt.close(fig)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_option(ap)
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args(argv)
    runs = parse_runs(args.run)
    for p in plot_diagnostics(runs, args.out):
        print(p)


if __name__ == "__main__":
    main()
