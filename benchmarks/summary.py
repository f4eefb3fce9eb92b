"""``results/benchmarks/SUMMARY.md``: one Markdown table from every ``results/benchmarks/<name>.json``."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import out_dir
from evaluators.common.atomic import atomic_write_text

ORDER = ("resrl_weights", "train_step", "graders", "passk", "rollout", "multi_turn_cache", "dag")


def _num(x: float | None, unit: str = "") -> str:
    if x is None:
        return ""
    if unit == "max |dw|":
        return f"{x:.1e}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _ratio(r: float | None) -> str:
    if r is None:
        return ""
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.2g}x"


def _met(m: bool | None) -> str:
    return {True: "met", False: "**not met**", None: ""}[m]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def load_results(directory: Path | None = None) -> list[dict]:
    directory = directory or out_dir()
    recs = []
    for p in sorted(directory.glob("*.json")):
        try:
            recs.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            continue
    rank = {n: i for i, n in enumerate(ORDER)}
    return sorted(recs, key=lambda r: (rank.get(r.get("name"), 99), r.get("name", "")))


def render(records: list[dict]) -> str:
    lines = [
        "# Benchmarks: latest measured ratios",
        "",
        "Written by `python -m benchmarks` from `results/benchmarks/*.json`. Each ratio compares two "
        "implementations timed in the same run on the same machine (ours / baseline for overheads, "
        "baseline / ours for speed-ups).",
        "",
    ]
    if records:
        m = records[0]["machine"]
        lines += [
            f"Machine: {m.get('cpu_model', '?')}, {m.get('cpu_count')} CPUs, {m.get('mem_total_gib', '?')} GiB, "
            f"torch {m.get('packages', {}).get('torch')} with {m.get('torch_threads')} threads; "
            f"commit {m.get('git_commit')}.",
            "",
        ]
    lines += [
        "| Benchmark | Case | Baseline | Ours | Unit | Ratio | Goal | Status | Load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rec in records:
        load = rec.get("load_average_start", [None])[0]
        tag = rec["name"] + (" (quick)" if rec.get("quick") else "")
        if not rec["rows"]:
            lines.append(f"| {tag} | {rec['status']} | | | | | | | {load} |")
        for row in rec["rows"]:
            base = (
                f"{row['baseline_label']}: {_num(row['baseline'], row['unit'])}"
                if row["baseline_label"]
                else ""
            )
            ours = (
                f"{row['ours_label']}: {_num(row['ours'], row['unit'])}"
                if row["ours_label"]
                else _num(row["ours"], row["unit"])
            )
            case = row["case"] + (f" ({row['note']})" if row.get("note") else "")
            cells = [
                tag,
                case,
                base,
                ours,
                row["unit"],
                _ratio(row["ratio"]),
                row["goal"],
                _met(row["met"]),
                load,
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    for rec in records:
        if rec.get("notes"):
            lines.append(
                f"**{rec['name']}** ({rec['title']}; measured {rec['machine'].get('created_utc')}, "
                f"load average {rec.get('load_average_start')} -> {rec.get('load_average_end')}):"
            )
            lines += [f"- {n}" for n in rec["notes"]]
            lines.append("")
    return "\n".join(lines)


def write_summary(directory: Path | None = None) -> Path:
    directory = directory or out_dir()
    return atomic_write_text(directory / "SUMMARY.md", render(load_results(directory)))
