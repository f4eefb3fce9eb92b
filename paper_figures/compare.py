"""Paper vs reproduced: every number the paper reports (``results/paper/reference.csv``, each with its source)
next to ours where we measured the same (model, method, benchmark, metric, k), with the difference."""

from __future__ import annotations

import argparse
import glob
import math
import re
from pathlib import Path

import pandas as pd

from paper_figures.common import METHOD_LABELS, load_metrics, write_text

# The paper's method names -> ours. The paper does not say which lambda its "NSR" rows used: Zhu et al. 2025a
# call lambda = 0 "NSR" and lambda = 0.1 "W-REINFORCE" (their recommended variant, the weak positive anchoring the
# paper cites for ResRL's positives). Both are run and each paper "NSR" cell is compared with both, labelled.
PAPER_METHODS = {
    "GRPO": ("grpo",),
    "DAPO": ("dapo",),
    "FlowRL": ("flowrl",),
    "NSR": ("nsr", "w_reinforce"),
    "ResRL": ("resrl",),
    "Backbone": ("base",),
    "PPO": ("ppo",),
    "EMPG": ("empg",),
    "ReAct": ("react",),
}
PAPER_BENCHMARKS = {"math_average": "macro", "bfcl_multi_turn": "bfcl_multi_turn"}
PERCENT_METRICS = {"avg@k", "pass@k", "success", "accuracy", "overall_acc"}


def parse_metric(name: str) -> tuple[str, int | None]:
    """``avg@16`` -> (``avg@k``, 16); ``elo`` -> (``elo``, None)."""
    m = re.fullmatch(r"(avg|pass)@(\d+)", name)
    return (
        (f"{m.group(1)}@k", int(m.group(2)))
        if m
        else (("accuracy", None) if name == "overall_acc" else (name, None))
    )


def compare(reference: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, ref in reference.iterrows():
        if not re.fullmatch(r"(avg|pass)@\d+|elo|percentile|success|overall_acc|score", str(ref["metric"])):
            continue  # relative gains in the text are not cells
        metric, k = parse_metric(ref["metric"])
        model = str(ref["model"]).lower()
        ours_methods = PAPER_METHODS.get(ref["method"], (str(ref["method"]).lower(),))
        bench = PAPER_BENCHMARKS.get(ref["benchmark"], ref["benchmark"])
        for method in ours_methods:
            hit = ours[
                (ours["model"].str.lower() == model)
                & (ours["method"] == method)
                & (ours["benchmark"] == bench)
                & (ours["metric"] == metric)
            ]
            if k is not None:
                hit = hit[hit["k"] == k]
            scale = 100.0 if metric in PERCENT_METRICS else 1.0
            mine = float(hit["value"].iloc[0]) * scale if len(hit) else math.nan
            label = (
                ref["method"]
                if len(ours_methods) == 1
                else f"{ref['method']} vs ours {METHOD_LABELS[method]}"
            )
            rows.append(
                {
                    "table": ref["table"],
                    "model": ref["model"],
                    "method": label,
                    "benchmark": ref["benchmark"],
                    "metric": ref["metric"],
                    "paper": float(ref["value"]),
                    "reproduced": mine,
                    "delta": mine - float(ref["value"]) if len(hit) else math.nan,
                    "source": ref["source"],
                    "confidence": ref["confidence"],
                }
            )
    return pd.DataFrame(rows)


def render(table: pd.DataFrame, ours: pd.DataFrame) -> str:
    f = lambda v: "—" if pd.isna(v) else f"{v:.2f}"  # noqa: E731
    lines = [
        "# Paper vs reproduced",
        "",
        "Every number the paper reports that we hold (with its source), our value for the same model, method,",
        "benchmark and metric where we measured it, and the difference (ours − paper). Cells without a",
        "reproduced value were not run here (no GPU: the Qwen3 grid needs the `paper` profile on a cluster).",
        "",
        "| table | model | method | benchmark | metric | paper | reproduced | Δ | source (confidence) |",
        "|---|---|---|---|---|---:|---:|---:|---|",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['table']} | {r['model']} | {r['method']} | {r['benchmark']} | {r['metric']} | {f(r['paper'])} | "
            f"{f(r['reproduced'])} | {f(r['delta'])} | {r['source']} ({r['confidence']}) |"
        )
    matched = int(table["reproduced"].notna().sum()) if len(table) else 0
    lines += ["", f"Cells with both values: {matched} of {len(table)}.", ""]
    if len(ours):
        models = ", ".join(sorted(ours["model"].unique()))
        lines.append(f"Models measured in this run: {models}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m paper_figures.compare", description=__doc__)
    ap.add_argument("--reference", default="results/paper/reference.csv")
    ap.add_argument("--metrics", nargs="*", default=[])
    ap.add_argument("--out", required=True, help="output stem (.md and .csv)")
    a = ap.parse_args()
    files = sorted({p for pat in a.metrics for p in (glob.glob(pat) or [pat])})
    ours = load_metrics(files)
    table = compare(pd.read_csv(a.reference), ours)
    stem = Path(a.out)
    print(write_text(stem.with_suffix(".md"), render(table, ours)))
    print(write_text(stem.with_suffix(".csv"), table.to_csv(index=False)))
