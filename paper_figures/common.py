"""Shared pieces: read tidy metrics, pivot them into a paper-style table, render Markdown and LaTeX with the
best value of each column (within a model block) in bold."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluators.common.schema import METRIC_COLUMNS, with_seed_column

# Display names as the paper writes them.
METHOD_LABELS = {
    "base": "Backbone",
    "grpo": "GRPO",
    "dapo": "DAPO",
    "flowrl": "FlowRL",
    "nsr": "NSR (λ=0)",
    "w_reinforce": "W-REINFORCE (λ=0.1)",
    "resrl": "ResRL",
    "react": "ReAct",
    "ppo": "PPO",
    "empg": "EMPG",
    "rest": "ResT",
    "toolace": "ToolACE-8B",
}
METHOD_ORDER = [
    "base",
    "react",
    "toolace",
    "ppo",
    "grpo",
    "dapo",
    "flowrl",
    "nsr",
    "w_reinforce",
    "empg",
    "rest",
    "resrl",
]


def load_metrics(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Concatenate tidy metrics files (CSV or Parquet); raises naming a file that lacks a column."""
    frames = []
    for p in paths:
        p = Path(p)
        df = with_seed_column(pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p))
        missing = [c for c in METRIC_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"{p}: missing metric column(s) {missing}")
        frames.append(df[list(METRIC_COLUMNS)])
    if not frames:
        return pd.DataFrame(columns=list(METRIC_COLUMNS))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Column:
    """One table column: which (benchmark, metric, k) it shows, its header, and how to scale values."""

    header: str
    benchmark: str
    metric: str
    k: int | None = None  # None: the largest k present
    scale: float = 100.0  # fractions -> percent
    digits: int = 1
    higher_is_better: bool = True
    optional: bool = False  # left out of the table when no row has a value
    mean_of: tuple[str, ...] = ()  # a derived column: mean of these headers, only where all are present


def _order_methods(methods: Iterable[str]) -> list[str]:
    ms = list(dict.fromkeys(methods))
    return sorted(ms, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m))


#: Metrics the paper writes in percent (tidy metrics hold fractions).
PERCENT_METRICS = {"avg@k", "pass@k", "success", "score", "accuracy", "overall_acc"}
#: Paper benchmark names -> ours where they differ.
PAPER_BENCHMARK_NAMES = {"math_average": "macro", "bfcl_multi_turn": "bfcl_multi_turn"}
REPORTED = " (reported)"


def parse_metric(name: str) -> tuple[str, int | None]:
    """The paper's metric names as ours: ``avg@16`` -> (``avg@k``, 16); ``overall_acc`` -> (``accuracy``, None);
    ``elo`` -> (``elo``, None)."""
    m = re.fullmatch(r"(avg|pass)@(\d+)", name)
    if m:
        return f"{m.group(1)}@k", int(m.group(2))
    return ("accuracy" if name == "overall_acc" else name), None


def latex_escape(s: object) -> str:
    """``_``, ``%`` and ``&`` escaped for a LaTeX table cell."""
    return str(s).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def reported_rows(reference: pd.DataFrame, table: str, methods: Sequence[str]) -> pd.DataFrame:
    """Tidy rows holding the paper's own numbers of ``methods`` (paper names, e.g. ``EMPG``) in ``table``, for
    baselines the DAG does not run. Model ``paper``, method ``<name> (reported)``: never shown as ours."""
    rows = []
    for _, ref in reference[
        (reference["table"] == table) & (reference["method"].isin(list(methods)))
    ].iterrows():
        metric, k = parse_metric(str(ref["metric"]))
        k = 1 if k is None else k  # a metric without k is stored with k = 1, as the evaluators write it
        scale = 100.0 if metric in PERCENT_METRICS else 1.0
        rows.append(
            {
                "model": "paper",
                "method": f"{ref['method']}{REPORTED}",
                "benchmark": PAPER_BENCHMARK_NAMES.get(ref["benchmark"], ref["benchmark"]),
                "metric": metric,
                "k": k,
                "value": float(ref["value"]) / scale,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "n_samples": 0,
                "seed": 0,
            }
        )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def cell_rows(sub: pd.DataFrame, method: str, col: Column) -> pd.DataFrame:
    """The rows of ``sub`` (one model's) that fill ``col`` for ``method``: its benchmark and metric at ``col.k``, or
    at the largest k present."""
    cell = sub[
        (sub["method"] == method) & (sub["benchmark"] == col.benchmark) & (sub["metric"] == col.metric)
    ]
    if col.k is not None:
        return cell[cell["k"] == col.k]
    return cell[cell["k"] == cell["k"].max()] if len(cell) else cell


def build_table(df: pd.DataFrame, columns: Sequence[Column], field: str = "value") -> pd.DataFrame:
    """Rows (model, method), one column per :class:`Column`; NaN where a cell was not measured. ``field``: which
    number of the tidy rows fills the cells (``value``, or an interval end ``ci_low`` / ``ci_high``; a derived
    column has no interval)."""
    records = {}
    for model in sorted(df["model"].unique()):
        sub = df[df["model"] == model]
        for method in _order_methods(sub["method"].unique()):
            row = {}
            for col in columns:
                if col.mean_of:
                    vals = [row[h] for h in col.mean_of]
                    ok = field == "value" and not any(math.isnan(v) for v in vals)
                    row[col.header] = sum(vals) / len(vals) if ok else math.nan
                    continue
                cell = cell_rows(sub, method, col)
                row[col.header] = float(cell[field].iloc[0]) * col.scale if len(cell) else math.nan
            records[(model, method)] = row
    table = pd.DataFrame.from_dict(records, orient="index", columns=[c.header for c in columns])
    table.index = (
        pd.MultiIndex.from_tuples(table.index, names=["model", "method"]) if len(table) else table.index
    )
    return table


def present_columns(table: pd.DataFrame, columns: Sequence[Column]) -> list[Column]:
    """The columns to show: optional ones only when some row has a value."""
    return [c for c in columns if not c.optional or table[c.header].notna().any()]


def best_mask(table: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """True where a cell is the best of its column within its model block (ties all bold)."""
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    if not len(table):
        return mask
    for model in table.index.get_level_values("model").unique():
        block = table.xs(model, level="model")
        for col in columns:
            vals = block[col.header].dropna()
            if vals.empty:
                continue
            best = vals.max() if col.higher_is_better else vals.min()
            for method in vals.index[vals == best]:
                mask.loc[(model, method), col.header] = True
    return mask


def _fmt(v: float, digits: int) -> str:
    return "—" if math.isnan(v) else f"{v:.{digits}f}"


@dataclass
class Intervals:
    """The 95% interval ends of every cell (tables shaped like the value table) and the notes the table prints
    under itself (ties, the interval's kind)."""

    low: pd.DataFrame
    high: pd.DataFrame
    notes: tuple[str, ...] = ()


def _cell_text(row, c: Column, model, method, iv: Intervals | None, latex: bool = False) -> str:
    s = _fmt(row[c.header], c.digits)
    if iv is None or math.isnan(row[c.header]):
        return s
    lo, hi = iv.low.loc[(model, method), c.header], iv.high.loc[(model, method), c.header]
    if math.isnan(lo) or math.isnan(hi):
        return s
    band = f"[{lo:.{c.digits}f}, {hi:.{c.digits}f}]"
    return f"{s} {{\\scriptsize {band}}}" if latex else f"{s} {band}"


def render_markdown(
    table: pd.DataFrame,
    columns: Sequence[Column],
    title: str = "",
    intervals: Intervals | None = None,
    bold: pd.DataFrame | None = None,
) -> str:
    """The table in Markdown; each cell ``mean [low, high]`` when ``intervals`` are given; bold where ``bold`` says
    (default: the best of each column within its model block)."""
    bold = best_mask(table, columns) if bold is None else bold
    lines = [f"**{title}**", ""] if title else []
    lines.append("| Model | Method | " + " | ".join(c.header for c in columns) + " |")
    lines.append("|---|---|" + "---:|" * len(columns))
    for (model, method), row in table.iterrows():
        cells = []
        for c in columns:
            s = _cell_text(row, c, model, method, intervals)
            cells.append(f"**{s}**" if bold.loc[(model, method), c.header] else s)
        lines.append(f"| {model} | {METHOD_LABELS.get(method, method)} | " + " | ".join(cells) + " |")
    if intervals is not None and intervals.notes:
        lines += [""] + [f"- {n}" for n in intervals.notes]
    return "\n".join(lines) + "\n"


def render_latex(
    table: pd.DataFrame,
    columns: Sequence[Column],
    caption: str = "",
    label: str = "",
    intervals: Intervals | None = None,
    bold: pd.DataFrame | None = None,
) -> str:
    bold = best_mask(table, columns) if bold is None else bold
    esc = latex_escape
    out = [r"\begin{table}[t]", r"\centering"]
    if caption:
        out.append(rf"\caption{{{esc(caption)}}}")
    if label:
        out.append(rf"\label{{{label}}}")
    out.append(r"\begin{tabular}{ll" + "r" * len(columns) + "}")
    out.append(r"\toprule")
    out.append("Model & Method & " + " & ".join(esc(c.header) for c in columns) + r" \\")
    out.append(r"\midrule")
    for (model, method), row in table.iterrows():
        cells = []
        for c in columns:
            s = _cell_text(row, c, model, method, intervals, latex=True).replace("—", "--")
            cells.append(rf"\textbf{{{s}}}" if bold.loc[(model, method), c.header] else s)
        out.append(f"{esc(model)} & {esc(METHOD_LABELS.get(method, method))} & " + " & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(out) + "\n"


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomic text write (a private temporary file, fsync, rename) with the umask's mode."""
    from resrl.records import atomic_write_text

    return atomic_write_text(path, text)


def save_figure(fig, paths: Sequence[str | os.PathLike], dpi: int = 130) -> list[Path]:
    """Render ``fig`` once per path (format from the suffix) and write each atomically with the umask's mode."""
    import io

    from resrl.records import atomic_write_bytes

    out = []
    for p in map(Path, paths):
        buf = io.BytesIO()
        fig.savefig(buf, format=p.suffix.lstrip("."), dpi=dpi, bbox_inches="tight")  # keeps an outside legend
        out.append(atomic_write_bytes(p, buf.getvalue()))
    return out


def finish_panels(fig, axes, used: int, out_stem: str | os.PathLike) -> list[Path]:
    """The end of every panel figure: unused panels hidden, one legend outside (``paper_figures.style``), saved as
    ``<stem>.png`` and ``<stem>.pdf``, closed."""
    import matplotlib.pyplot as plt

    from paper_figures.style import legend_outside

    for ax in list(axes)[used:]:
        ax.axis("off")
    fig.tight_layout()
    legend_outside(fig, list(axes))
    stem = Path(out_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = save_figure(fig, [stem.with_suffix(".png"), stem.with_suffix(".pdf")])
    plt.close(fig)
    return paths


def write_table(
    out_stem: str | os.PathLike,
    table: pd.DataFrame,
    columns: Sequence[Column],
    title: str,
    label: str,
    intervals: Intervals | None = None,
    bold: pd.DataFrame | None = None,
    extra_markdown: str = "",
) -> list[Path]:
    """``<stem>.md`` (with ``extra_markdown`` after the table, e.g. the differences to a baseline) and
    ``<stem>.tex``."""
    stem = Path(out_stem)
    md = render_markdown(table, columns, title, intervals, bold)
    return [
        write_text(stem.with_suffix(".md"), md + (f"\n{extra_markdown}" if extra_markdown else "")),
        write_text(stem.with_suffix(".tex"), render_latex(table, columns, title, label, intervals, bold)),
    ]
