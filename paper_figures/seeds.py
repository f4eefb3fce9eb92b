"""Seeds in the tables and figures: the tidy metrics of every seed collapsed to one row per cell with its interval,
and the per-problem score matrices that intervals, paired differences and the bold rule are computed from.

Inputs: the tidy metrics files of a profile (one per seed, each with a ``seed`` column) and, beside each, the
per-problem scores ``<stem>.problems.csv`` the sampled evaluators write (math, code). For a cell ``(model, method,
benchmark, metric, k)``:

- with per-problem scores of every seed: the matrix ``[S, P]`` (seeds x problems) gives the mean and the two-way
  bootstrap interval over seeds and problems (:func:`paper_figures.seed_stats.seed_problem_interval`);
- without them, several seeds: the interval over the seeds' values only;
- one seed without them: the evaluator's own interval (over problems) as written in its metrics file.

Everything downstream (tables, Pass@k figure, ablation tables, the paper comparison) reads the collapsed rows, so
each shows the same mean and interval.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from evaluators.common.run import PROBLEM_COLUMNS, problems_path
from paper_figures.seed_stats import paired_difference, seed_problem_interval, separated

CELL = ["model", "method", "benchmark", "metric", "k"]
N_BOOT = 2000
ALPHA = 0.05


def load_problem_scores(metrics_paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """The per-problem scores written beside the given metrics files (those that have them), concatenated."""
    frames = [pd.read_csv(q) for q in map(problems_path, metrics_paths) if Path(q).is_file()]
    if not frames:
        return pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def score_matrix(problems: pd.DataFrame, model, method, benchmark, metric, k) -> np.ndarray | None:
    """``[S, P]`` float64 scores of one cell (seeds in increasing order), or None when no seed has per-problem
    scores or the seeds did not score the same problems."""
    if not len(problems):
        return None
    sub = problems[
        (problems["model"] == model)
        & (problems["method"] == method)
        & (problems["benchmark"] == benchmark)
        & (problems["metric"] == metric)
        & (problems["k"] == int(k))
    ]
    if not len(sub):
        return None
    m = sub.pivot_table(index="seed", columns="problem", values="value", aggfunc="first").sort_index()
    if m.isna().to_numpy().any():
        return None  # a seed lacks some problem: not one problem set
    return m.to_numpy(dtype=np.float64)


def collapse_seeds(df: pd.DataFrame, problems: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cell: ``value`` the mean over seeds, ``ci_low``/``ci_high`` its 95% interval (see the module
    docstring for which), ``n_seeds`` and ``interval`` (``seeds+problems``, ``seeds`` or ``problems``)."""
    problems = problems if problems is not None else pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    df = df if "seed" in df.columns else df.assign(seed=0)
    rows = []
    for key, g in df.groupby(CELL, sort=False, dropna=False):
        row = dict(zip(CELL, key, strict=True))
        row["n_samples"] = int(g["n_samples"].min())
        row["n_seeds"] = int(g["seed"].nunique())
        m = score_matrix(problems, *key)
        if m is not None and m.shape[0] == row["n_seeds"]:
            iv = seed_problem_interval(m, N_BOOT, ALPHA)
            row.update(
                value=float(g["value"].mean()), ci_low=iv.low, ci_high=iv.high, interval="seeds+problems"
            )
        elif row["n_seeds"] > 1:
            per_seed = g.groupby("seed")["value"].mean().to_numpy()[:, None]
            iv = seed_problem_interval(per_seed, N_BOOT, ALPHA)
            row.update(value=float(per_seed.mean()), ci_low=iv.low, ci_high=iv.high, interval="seeds")
        else:
            r = g.iloc[0]
            row.update(value=float(r["value"]), ci_low=r["ci_low"], ci_high=r["ci_high"], interval="problems")
        row["seed"] = int(g["seed"].min())
        rows.append(row)
    return pd.DataFrame(
        rows, columns=[*CELL, "value", "ci_low", "ci_high", "n_samples", "seed", "n_seeds", "interval"]
    )


def is_separated(
    problems: pd.DataFrame, collapsed: pd.DataFrame, model, best, runner_up, benchmark, metric, k, higher=True
) -> bool:
    """Whether ``best`` is ahead of ``runner_up`` beyond the noise: the paired difference over shared problems
    (with seeds resampled) excludes 0 when both have per-problem scores on the same problems; otherwise their
    intervals do not overlap. No interval at all: not separated."""
    a = score_matrix(problems, model, best, benchmark, metric, k)
    b = score_matrix(problems, model, runner_up, benchmark, metric, k)
    if a is not None and b is not None and a.shape[1] == b.shape[1]:
        return separated(a, b, N_BOOT, ALPHA) if higher else separated(-a, -b, N_BOOT, ALPHA)
    cells = collapsed.set_index(CELL)
    try:
        ra, rb = (
            cells.loc[(model, best, benchmark, metric, k)],
            cells.loc[(model, runner_up, benchmark, metric, k)],
        )
    except KeyError:
        return False
    if any(pd.isna(x) for x in (ra["ci_low"], ra["ci_high"], rb["ci_low"], rb["ci_high"])):
        return False
    return ra["ci_low"] > rb["ci_high"] if higher else ra["ci_high"] < rb["ci_low"]


def difference(problems: pd.DataFrame, model, method, baseline, benchmark, metric, k):
    """The paired difference ``method - baseline`` (an ``Interval``) over shared problems, or None without
    per-problem scores of both on the same problems."""
    a = score_matrix(problems, model, method, benchmark, metric, k)
    b = score_matrix(problems, model, baseline, benchmark, metric, k)
    if a is None or b is None or a.shape[1] != b.shape[1]:
        return None
    return paired_difference(a, b, N_BOOT, ALPHA)


def _cell_k(collapsed: pd.DataFrame, model, method, col) -> int | None:
    from paper_figures.common import cell_rows

    rows = cell_rows(collapsed[collapsed["model"] == model], method, col)
    return int(rows["k"].iloc[0]) if len(rows) else None


def bold_where_separated(table: pd.DataFrame, columns, collapsed: pd.DataFrame, problems: pd.DataFrame):
    """(mask, notes): a cell is bold only when it is the best of its column within its model block and ahead of
    the runner-up beyond the noise (:func:`is_separated`); every other column best is named in a note as tied."""
    from paper_figures.common import METHOD_LABELS

    name = lambda m: METHOD_LABELS.get(m, m)  # noqa: E731
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    notes = []
    if not len(table):
        return mask, notes
    for model in table.index.get_level_values("model").unique():
        block = table.xs(model, level="model")
        tied = []
        for col in columns:
            vals = block[col.header].dropna().sort_values(ascending=not col.higher_is_better)
            if len(vals) < 2 or col.mean_of:
                continue  # nothing to beat, or a derived column (no interval of its own)
            best, runner = vals.index[0], vals.index[1]
            k = _cell_k(collapsed, model, best, col)
            if (
                vals.iloc[0] != vals.iloc[1]
                and k is not None
                and is_separated(
                    problems,
                    collapsed,
                    model,
                    best,
                    runner,
                    col.benchmark,
                    col.metric,
                    k,
                    col.higher_is_better,
                )
            ):
                mask.loc[(model, best), col.header] = True
            else:
                tied.append(f"{col.header} ({name(best)} vs {name(runner)})")
        if tied:
            notes.append(
                f"Tied, so not bold ({model}): {', '.join(tied)}: the best is not ahead of the runner-up beyond "
                "the 95% interval."
            )
    return mask, notes


def baseline_differences(table: pd.DataFrame, columns, collapsed, problems, baseline: str = "grpo") -> str:
    """A Markdown table of each method minus ``baseline`` (paired over shared problems, seeds resampled), per model
    block and column, ``+d [low, high]`` in the table's units; ``*`` where the interval excludes 0. Empty when no
    model block has the baseline or no column has per-problem scores."""
    from paper_figures.common import METHOD_LABELS

    cols = [c for c in columns if not c.mean_of]
    lines = []
    for model in table.index.get_level_values("model").unique():
        methods = list(table.xs(model, level="model").index)
        if baseline not in methods:
            continue
        for method in (m for m in methods if m != baseline):
            cells, any_cell = [], False
            for c in cols:
                k = _cell_k(collapsed, model, method, c)
                d = (
                    None
                    if k is None
                    else difference(problems, model, method, baseline, c.benchmark, c.metric, k)
                )
                if d is None:
                    cells.append("—")
                    continue
                any_cell = True
                star = " *" if d.excludes(0.0) else ""
                s = c.scale
                cells.append(
                    f"{s * d.mean:+.{c.digits}f} [{s * d.low:+.{c.digits}f}, {s * d.high:+.{c.digits}f}]{star}"
                )
            if any_cell:
                lines.append(f"| {model} | {METHOD_LABELS.get(method, method)} | " + " | ".join(cells) + " |")
    if not lines:
        return ""
    head = [
        f"**Difference to {METHOD_LABELS.get(baseline, baseline)}** (method minus {METHOD_LABELS.get(baseline, baseline)}, "
        "paired over the same problems with seeds resampled, 95% interval; * the interval excludes 0)",
        "",
        "| Model | Method | " + " | ".join(c.header for c in cols) + " |",
        "|---|---|" + "---:|" * len(cols),
    ]
    return "\n".join(head + lines) + "\n"
