"""The Snakemake DAG: dry runs of both profiles (and an ablation), config validation, and (slow) a real
end-to-end run of the smallest profile in a temporary directory."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from resrl.paths import REPO_ROOT

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _dry_run(*config: str, workdir: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [SNAKEMAKE, "-n", "--cores", "2", "-s", str(REPO_ROOT / "Snakefile")]
    if workdir:
        cmd += ["-d", str(workdir)]
    if config:
        cmd += ["--config", *config]
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def _job_counts(stdout: str) -> dict[str, int]:
    block = stdout[stdout.index("Job stats:"):]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M)}


def test_tiny_profile_dry_run_lists_every_stage(tmp_path):
    proc = _dry_run(workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = _job_counts(proc.stdout)
    # 5 trained methods; 6 variants (with the untrained backbone) x 2 evaluation parts
    assert jobs["train"] == 5 and jobs["sample_arith"] == 6 and jobs["metrics_math"] == 6
    assert {"table1", "passk_figure", "training_curves", "compare_paper", "all"} <= set(jobs)


def test_paper_profile_dry_run_lists_the_grid(tmp_path):
    proc = _dry_run("profile=paper", workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = _job_counts(proc.stdout)
    assert jobs["train"] == 15  # 3 Qwen3 sizes x 5 methods
    assert jobs["sample_math"] == 18 and jobs["sample_passk"] == 18  # with the backbone rows
    assert jobs["evaluate_code"] == 54  # 18 x LiveCodeBench, CodeForces, HumanEval+


def test_paper_training_goes_through_the_verl_launcher(tmp_path):
    cmd = [SNAKEMAKE, "-n", "-p", "--cores", "2", "-s", str(REPO_ROOT / "Snakefile"), "-d", str(tmp_path),
           "--config", "profile=paper", "--until", "train"]
    out = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300).stdout
    assert "-m resrl.backends.verl.launch profile=paper 'method=resrl' 'model=qwen3-4b'" in out
    assert "-m resrl.backends.verl.checkpoint results/runs/paper/qwen3-4b/resrl" in out


def test_ablation_adds_one_run_per_value(tmp_path):
    proc = _dry_run("ablation=rank", workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = _job_counts(proc.stdout)
    assert jobs["train"] == 5 + 6 and jobs["ablation_table"] == 1


def test_unknown_profile_and_ablation_are_named(tmp_path):
    bad = _dry_run("profile=nope", workdir=tmp_path)
    assert bad.returncode != 0 and "unknown profile 'nope'; valid:" in bad.stdout + bad.stderr
    bad = _dry_run("ablation=depth", workdir=tmp_path)
    assert bad.returncode != 0 and "unknown ablation 'depth'" in bad.stdout + bad.stderr


@pytest.mark.slow
def test_ci_profile_runs_end_to_end(tmp_path):
    cmd = [SNAKEMAKE, "--cores", "2", "-s", str(REPO_ROOT / "Snakefile"), "-d", str(tmp_path), "--config", "profile=ci"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    fig = tmp_path / "paper_figures" / "ci"
    for name in ("table1.md", "table1.tex", "passk.png", "passk.pdf", "training_curves_tiny-qwen3.png",
                 "paper_vs_reproduced.md"):
        assert (fig / name).is_file(), name
    table = (fig / "table1.md").read_text()
    assert all(f"| tiny-qwen3 | {m} |" in table for m in ("Backbone", "GRPO", "ResRL"))
    again = subprocess.run([*cmd, "-n"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert "Nothing to be done" in again.stdout + again.stderr  # a rerun does only what is missing or stale
