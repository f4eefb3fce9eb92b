"""The SLURM profile (experiments/executor/slurm/) against snakemake-executor-plugin-slurm itself: every job the
paper and smoke DAGs would submit passes the plugin's own checks and asks for GPUs the way the plugin reads them
(the `gpu` resource -> sbatch --gpus; `slurm_extra` may not carry --gres/--gpus), and the report rules never leave
the submit host."""

import json
import re
import shlex
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
HELPER = Path(__file__).with_name("slurm_dry_run.py")
SLURM_PROFILE = ROOT / "experiments" / "executor" / "slurm"

# rule -> GPUs of each of its jobs: training takes the veRL cluster profile's GPUs (paper: 8, smoke: 1), every
# vLLM sampling or evaluation job one
SUBMITTED = {
    "paper": {
        "train": {8, 1},  # veRL on 8 GPUs; the multi-turn domains' local trainer on one
        "sample_math": 1,
        "sample_passk": 1,
        "sample_math32b": 1,
        "evaluate_code": 1,
        "evaluate_agents": 1,
        "evaluate_bfcl": 1,
    },
    "smoke": {"train": {1}, "sample_math": 1, "evaluate_code": 1, "evaluate_agents": 1, "evaluate_bfcl": 1},
}
LOCAL = {
    "paper": {
        "preflight",
        "metrics_math",
        "metrics_passk",
        "metrics_math32b",
        "table1",
        "table2",
        "table3",
        "table4",
        "table5",
        "passk_figure",
        "diversity_figure",
        "training_curves",
        "compare_paper",
        "all",
    },
    "smoke": {
        "preflight",
        "metrics_math",
        "table1",
        "table2",
        "table3",
        "table4",
        "passk_figure",
        "diversity_figure",
        "compare_paper",
        "all",
    },
}


def test_the_installed_plugin_is_the_one_the_project_declares():
    # pyproject: extras slurm and dev, snakemake-executor-plugin-slurm>=2,<3 (the cluster lock has 2.6.1)
    assert version("snakemake-executor-plugin-slurm").split(".")[0] == "2"


@pytest.fixture(scope="module", params=["paper", "smoke"])
def slurm_jobs(request, tmp_path_factory):
    """Every job of `snakemake -n --profile experiments/executor/slurm --config profile=<p>`, each put through the
    plugin's validation and sbatch/srun builders (tests/workflow/slurm_dry_run.py says how and why)."""
    tmp = tmp_path_factory.mktemp(f"slurm-{request.param}")
    out = tmp / "jobs.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            str(HELPER),
            str(out),
            "-s",
            str(ROOT / "Snakefile"),
            "-d",
            str(tmp / "work"),
            "--profile",
            str(SLURM_PROFILE),
            "--config",
            f"profile={request.param}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    jobs = [json.loads(line) for line in out.read_text().splitlines()]
    assert jobs
    return request.param, jobs


def test_every_submitted_job_passes_the_slurm_plugins_own_checks(slurm_jobs):
    profile, jobs = slurm_jobs
    errors = sorted({(j["rule"], j["error"]) for j in jobs if j["error"]})
    assert not errors, (
        errors
    )  # e.g. "The --generic-resources-(GRES) option is not allowed in the 'slurm_extra'"
    assert {j["rule"] for j in jobs if not j["local"]} == set(SUBMITTED[profile])
    for job in (j for j in jobs if not j["local"]):
        gpus, res = SUBMITTED[profile][job["rule"]], job["resources"]
        sbatch, srun = shlex.split(job["sbatch"]), shlex.split(job["srun"])
        assert "slurm_extra" not in res and "gpus" not in res  # the plugin reads `gpu`; `gpus` was ignored
        assert res["gpu"] in gpus if isinstance(gpus, set) else res["gpu"] == gpus
        gpus = res["gpu"]
        assert f"--gpus={gpus}" in sbatch and f"--gpus={gpus}" in srun, (
            job["rule"],
            job["sbatch"],
            job["srun"],
        )
        assert (
            f"--cpus-per-task={res['cpus_per_task']}" in sbatch
            and f"--cpus-per-task={res['cpus_per_task']}" in srun
        )
        assert sbatch[sbatch.index("-p") + 1] == "gpu"
        assert sbatch[sbatch.index("--mem") + 1] == str(res["mem_mb"]) and sbatch[
            sbatch.index("-t") + 1
        ] == str(res["runtime"])
        # one task per job: plugin 2.6.1 (the locked one) adds --ntasks-per-gpu=1 unless tasks_per_gpu is 0, which
        # would make an 8-GPU job 8 tasks x cpus_per_task CPUs
        assert res["tasks_per_gpu"] == 0 and not any(t.startswith("--ntasks") for t in sbatch)
        if job["rule"] == "train":
            assert res["cpus_per_task"] == 8 * gpus and res["mem_mb"] >= 64000


def test_report_and_metrics_rules_are_never_submitted(slurm_jobs):
    profile, jobs = slurm_jobs
    assert {j["rule"] for j in jobs if j["local"]} == LOCAL[profile]
    assert all(j["sbatch"] is None for j in jobs if j["local"])


@pytest.mark.parametrize("profile", ["paper", "smoke"])
def test_slurm_profile_dry_run(tmp_path, profile):
    # A plain dry run with the profile: Snakemake loads the plugin and builds its ExecutorSettings from the profile
    # and command line (the plugin validates them in __post_init__), and dry-runs without calling sbatch, so no
    # fake SLURM commands are needed. Jobs print the resources the plugin will read.
    cmd = [
        SNAKEMAKE,
        "-n",
        "-s",
        str(ROOT / "Snakefile"),
        "-d",
        str(tmp_path / "work"),
        "--profile",
        str(SLURM_PROFILE),
        "--config",
        f"profile={profile}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    out = proc.stdout
    assert "slurm_extra" not in out
    train = re.search(r"^rule train:\n(?:    .*\n)*?    resources: (.*)$", out, re.M)
    assert train, out[-3000:]
    train_gpus = int(re.search(r"\bgpu=(\d+)", train.group(1)).group(1))
    assert train_gpus in SUBMITTED[profile]["train"]
    assert {
        "slurm_partition=gpu",
        f"runtime={1440 if profile == 'paper' else 120}",
        f"cpus_per_task={8 * train_gpus}",
        "tasks_per_gpu=0",
        f"gpu={train_gpus}",
    } <= set(train.group(1).split(", "))
    # the executor settings really are the plugin's: an invalid one fails the same dry run with its message
    bad = subprocess.run(
        [*cmd, "--slurm-status-attempts", "0"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert bad.returncode != 0 and "status_attempts must be a positive integer" in bad.stdout + bad.stderr
