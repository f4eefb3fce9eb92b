"""What every benchmark shares: timing, the result record, machine facts, atomic JSON output.

A benchmark module defines ``NAME``, ``TITLE`` and ``run(quick: bool) -> BenchResult``. Each row of a result
compares a baseline with our implementation *measured in the same run*; ``ratio`` is always
"how many times better ours is" (baseline time / our time, or our throughput / baseline throughput), except
for overhead rows, whose ratio is ours / baseline with a goal such as ``<= 1.05``.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evaluators.common.atomic import atomic_write_json
from evaluators.common.provenance import git_commit, package_versions
from resrl.paths import results_dir

BENCH_PACKAGES = ("torch", "transformers", "numpy", "math-verify", "snakemake")


def out_dir() -> Path:
    """``results/benchmarks/`` (follows ``$RESRL_RESULTS_DIR``)."""
    return results_dir() / "benchmarks"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, return value) of one call."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def repeat_timing(fn: Callable[[], Any], repeats: int, warmup: int = 0) -> tuple[list[float], Any]:
    """Wall seconds of ``repeats`` calls after ``warmup`` untimed calls; returns (times, last value)."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        dt, out = timed(fn)
        times.append(dt)
    return times, out


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


@dataclass
class Row:
    """One comparison. ``baseline``/``ours`` are the measured figures in ``unit``; ``ratio`` as in the module
    docstring; ``goal`` a human-readable target (e.g. ``">= 5x"``) and ``met`` whether the ratio reaches it
    (None when there is no goal or nothing was measured)."""

    case: str
    baseline_label: str
    ours_label: str
    unit: str
    baseline: float | None
    ours: float | None
    ratio: float | None
    goal: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class BenchResult:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    status: str = "measured"  # "measured" | "partial" | "not run" (with the reason in notes)


def speedup(baseline_s: float, ours_s: float) -> float:
    return baseline_s / ours_s if ours_s > 0 else float("inf")


def goal_at_least(ratio: float | None, target: float) -> bool | None:
    return None if ratio is None else bool(ratio >= target)


def goal_at_most(ratio: float | None, target: float) -> bool | None:
    return None if ratio is None else bool(ratio <= target)


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, torch threads, versions, commit, time: written beside every result."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "git_commit": git_commit(),
        "packages": package_versions(BENCH_PACKAGES),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    except ImportError:
        info["torch_threads"] = None
    return info


def write_result(
    result: BenchResult, started: dict[str, Any], quick: bool, directory: Path | None = None
) -> Path:
    """``results/benchmarks/<name>.json`` (atomic): machine info, load average at start and end, raw data."""
    directory = directory or out_dir()
    record = {
        "name": result.name,
        "title": result.title,
        "status": result.status,
        "quick": quick,
        "machine": started["machine"],
        "load_average_start": started["load"],
        "load_average_end": load_average(),
        "wall_s": round(time.perf_counter() - started["t0"], 2),
        "rows": [asdict(r) for r in result.rows],
        "notes": result.notes,
        "raw": result.raw,
    }
    return atomic_write_json(directory / f"{result.name}.json", record)


def start_record() -> dict[str, Any]:
    return {"machine": machine_info(), "load": load_average(), "t0": time.perf_counter()}
