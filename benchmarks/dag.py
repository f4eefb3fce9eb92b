"""Benchmark 6: the default DAG (``snakemake --cores 2``, tiny profile) end to end: wall time per rule.

Read from Snakemake's own records of the last run: ``.snakemake/metadata/`` holds, per output file, the
rule, the job's start time and the output's completion time. Jobs with several outputs are counted once.
Nothing is run unless ``--run-dag`` is given (then ``snakemake --cores 2`` runs first, which takes a while
and writes the DAG's results). With no records, the benchmark says the DAG was not run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from base64 import urlsafe_b64decode
from collections import defaultdict
from pathlib import Path

from benchmarks.common import BenchResult, Row

NAME = "dag"
TITLE = "Default DAG end to end: wall time per rule"
REPO = Path(__file__).resolve().parents[1]


def read_snakemake_metadata(root: Path = REPO / ".snakemake" / "metadata") -> list[dict]:
    """One dict per output file: ``output``, ``rule``, ``starttime``, ``endtime``, ``job_hash``."""
    records = []
    if not root.is_dir():
        return records
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        parts = path.relative_to(root).parts
        try:
            output = urlsafe_b64decode("".join(p.lstrip("@") for p in parts)).decode()
            rec = json.loads(path.read_text())
        except (ValueError, OSError):
            continue
        if rec.get("incomplete") or rec.get("starttime") is None or rec.get("endtime") is None:
            continue
        records.append(
            {
                "output": output,
                "rule": rec.get("rule"),
                "starttime": float(rec["starttime"]),
                "endtime": float(rec["endtime"]),
                "job_hash": rec.get("job_hash"),
            }
        )
    return records


def jobs_from_records(records: list[dict], profile: str = "tiny") -> list[dict]:
    """Deduplicated jobs of the profile (outputs under ``.../<profile>/...``): rule, start, end, outputs."""
    jobs: dict[tuple, dict] = {}
    for r in records:
        if f"/{profile}/" not in f"/{r['output']}":
            continue
        key = (r["rule"], r["job_hash"], round(r["starttime"], 3))
        job = jobs.setdefault(
            key, {"rule": r["rule"], "start": r["starttime"], "end": r["endtime"], "outputs": []}
        )
        job["end"] = max(job["end"], r["endtime"])
        job["outputs"].append(r["output"])
    return sorted(jobs.values(), key=lambda j: j["start"])


def per_rule(jobs: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = defaultdict(lambda: {"jobs": 0, "total_s": 0.0, "max_s": 0.0})
    for j in jobs:
        d = out[j["rule"]]
        wall = max(0.0, j["end"] - j["start"])
        d["jobs"] += 1
        d["total_s"] += wall
        d["max_s"] = max(d["max_s"], wall)
    return dict(out)


def run(
    quick: bool = False, run_dag: bool = False, profile: str = "tiny", workdir: str | None = None
) -> BenchResult:
    res = BenchResult(NAME, TITLE)
    wd = Path(workdir) if workdir else REPO
    if run_dag:
        print(f"[dag] running `snakemake --cores 2` in {wd} (this takes a while) ...", flush=True)
        snakemake = str(Path(sys.executable).with_name("snakemake"))
        cmd = [
            snakemake,
            "--cores",
            "2",
            "--config",
            f"profile={profile}",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(wd),
        ]
        proc = subprocess.run(cmd, cwd=REPO)
        res.raw["snakemake_returncode"] = proc.returncode
    jobs = jobs_from_records(read_snakemake_metadata(wd / ".snakemake" / "metadata"), profile)
    if not jobs:
        res.status = "not run"
        res.notes.append(
            f"No completed Snakemake job of the '{profile}' profile is recorded in {wd}/.snakemake/metadata/: "
            "the DAG has not been run on this checkout. `python -m benchmarks --only dag --run-dag` "
            "runs `snakemake --cores 2` and then tabulates it."
        )
        return res
    rules = per_rule(jobs)
    span = max(j["end"] for j in jobs) - min(j["start"] for j in jobs)
    busy = sum(d["total_s"] for d in rules.values())
    for rule, d in sorted(rules.items(), key=lambda kv: -kv[1]["total_s"]):
        res.rows.append(
            Row(
                f"rule {rule} ({d['jobs']} job{'s' if d['jobs'] != 1 else ''}, longest {d['max_s']:.0f} s)",
                "",
                "wall time",
                "s",
                None,
                d["total_s"],
                None,
                "",
                None,
            )
        )
    res.rows.append(
        Row(
            f"whole DAG ({len(jobs)} jobs; first start to last end)",
            "",
            "wall time",
            "s",
            None,
            span,
            None,
            "",
            None,
        )
    )
    res.raw = {
        "profile": profile,
        "per_rule": rules,
        "span_s": span,
        "sum_of_job_walls_s": busy,
        "parallelism": busy / span if span > 0 else None,
        "jobs": [
            {k: v for k, v in j.items() if k != "outputs"} | {"outputs": j["outputs"][:3]} for j in jobs
        ],
    }
    res.notes.append(
        "Per-rule figures are sums of job wall times (start recorded by Snakemake, end = output "
        "mtime); with --cores 2 jobs overlap, so they add up to more than the DAG's span."
    )
    return res
