"""Snakemake after a failure (slow): with the ``ci`` profile in a temporary directory, one evaluation job fails (a
malformed ``sampling.json`` beside its samples, as a crash or a full disk could leave it); ``--keep-going`` finishes
everything else. After the file is removed, a rerun schedules exactly the failed job and the jobs downstream of it,
and nothing else is recomputed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import job_counts, run_snakemake

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

BROKEN = "results/samples/ci/math/tiny-qwen3/grpo/s0/arith/sampling.json"
STORED = (
    "results/samples/ci/math/tiny-qwen3/grpo/s0/arith/leftover.jsonl"  # not a rule output: Snakemake keeps it
)
FAILED_LOG = "results/logs/ci/sample_arith/math/tiny-qwen3/grpo/s0.log"


def _snakemake(workdir: Path, *extra: str, timeout: int = 2400) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return run_snakemake(
        *extra, workdir=workdir, config=["profile=ci"], dry_run=False, timeout=timeout, env=env
    )


def test_rerun_after_a_failed_job_redoes_only_it_and_its_downstream(tmp_path):
    (tmp_path / BROKEN).parent.mkdir(parents=True)
    (tmp_path / BROKEN).write_text('{"model": {"name": "tiny-qw')  # cut short
    (tmp_path / STORED).write_text(
        '{"problem_id": "arith-0", "sample_index": 0, "text": "4"}\n'
    )  # samples beside it
    first = _snakemake(tmp_path, "--keep-going")
    assert first.returncode != 0, "the broken job did not fail"
    assert (
        "sampling.json: unreadable" in (tmp_path / FAILED_LOG).read_text()
    )  # one clear line naming the file
    assert "Traceback" not in (tmp_path / FAILED_LOG).read_text()
    # everything not downstream of the failed job was done
    done = {
        p: (tmp_path / p).stat().st_mtime_ns
        for p in (
            "results/runs/ci/math/tiny-qwen3/grpo/s0/train.done",
            "results/runs/ci/math/tiny-qwen3/resrl/s0/train.done",
            "results/samples/ci/math/tiny-qwen3/base/s0/arith/arith.jsonl",
            "results/samples/ci/math/tiny-qwen3/resrl/s0/arith/arith.jsonl",
            "results/metrics/ci/math/tiny-qwen3/base/s0/arith/metrics.csv",
            "results/metrics/ci/math/tiny-qwen3/resrl/s0/arith/metrics.csv",
            "paper_figures/ci/math/training_curves_tiny-qwen3.png",
        )
    }
    assert not (tmp_path / "paper_figures" / "ci" / "table1.md").exists()

    (tmp_path / BROKEN).unlink()  # the fix: the damaged record and the samples it described
    (tmp_path / STORED).unlink()
    plan = _snakemake(tmp_path, "-n", timeout=300)
    assert plan.returncode == 0, plan.stderr[-2000:]
    jobs = job_counts(plan.stdout + plan.stderr)
    del jobs["total"]
    # hand-derived from the DAG: the failed sample job, its metrics, the four reports that read them (the
    # accuracy-against-diversity figure reads the samples), and `all`
    assert jobs == {
        "sample_arith": 1,
        "metrics_arith": 1,
        "table1": 1,
        "passk_figure": 1,
        "diversity_figure": 1,
        "compare_paper": 1,
        "all": 1,
    }, jobs
    assert "variant=grpo" in plan.stdout + plan.stderr

    second = _snakemake(tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert {p: (tmp_path / p).stat().st_mtime_ns for p in done} == done  # nothing else was recomputed
    assert (tmp_path / "paper_figures" / "ci" / "table1.md").is_file()
    assert "Nothing to be done" in (lambda p: p.stdout + p.stderr)(_snakemake(tmp_path, "-n", timeout=300))
