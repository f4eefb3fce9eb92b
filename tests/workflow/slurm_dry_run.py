"""`snakemake -n` with every job also put through snakemake-executor-plugin-slurm's own checks and sbatch builder.

Usage: ``python slurm_dry_run.py OUT.jsonl <snakemake arguments...>`` (e.g. ``--profile experiments/executor/slurm
--config profile=paper``); exits with Snakemake's status and writes one JSON line per job.

Why not a real submission: the plugin submits with ``sbatch`` and then polls ``sacct``/``squeue``, and validates
accounts with ``sacctmgr``; none exist here, and faking them would test the fakes. In a dry run Snakemake builds
the same jobs with the same resources (profile ``default-resources`` and ``set-resources`` applied, rule callables
evaluated) and hands each to the dry-run executor. We wrap that executor's ``run_job`` so every job also goes
through what the SLURM executor's ``run_job`` does before calling ``sbatch`` (plugin 2.x, ``Executor.run_job``):
``validate_slurm_extra(job)``, ``get_submit_command(job, params, settings)`` (task, memory, runtime, CPU and node
checks) and ``set_gres_string(job)`` (``gres``/``gpu``/``gpu_model`` checks, the ``--gpus`` option); plus the
jobstep plugin's ``get_cpu_setting``/``get_gpu_setting``, which build the ``srun`` inside the allocation. Local
rules are recorded but not checked, since the SLURM executor never submits them. Differences from a real run: the
account (validated with ``sacctmgr``) is left out of the sbatch line, and Snakemake's dry run caps ``threads`` at
one core (every rule here sets ``cpus_per_task``, which the plugin prefers to threads).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import snakemake.executors.dryrun as dryrun
from snakemake.cli import main as snakemake_main
from snakemake_executor_plugin_slurm import ExecutorSettings
from snakemake_executor_plugin_slurm.submit_string import get_submit_command
from snakemake_executor_plugin_slurm.utils import set_gres_string
from snakemake_executor_plugin_slurm.validation import validate_slurm_extra
from snakemake_executor_plugin_slurm_jobstep import get_cpu_setting, get_gpu_setting


def _plain(value):
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def submitted_locally(job) -> bool:
    """``Workflow.is_local`` as it is under a remote executor (in a dry run every job counts as local): local rules
    (``localrules:`` or ``localrule: True``), rules without a command (``all``) and template rules."""
    rule, workflow = job.rule, job.dag.workflow
    return rule.group is None and (rule.name in workflow._localrules or rule.norun or rule.is_template_engine)


def check_job(job, settings) -> dict:
    record = {
        "rule": job.rule.name,
        "wildcards": dict(job.wildcards_dict),
        "local": submitted_locally(job),
        "resources": {k: _plain(v) for k, v in job.resources.items() if not k.startswith("_")},
        "shellcmd": job.shellcmd,
        "sbatch": None,
        "srun": None,
        "error": None,
    }
    if record["local"]:
        return record
    try:
        validate_slurm_extra(job)
        partition = job.resources.get("slurm_partition")
        params = {
            "run_uuid": "RUN",
            "slurm_logfile": Path(".snakemake/slurm_logs/%j.log"),
            "comment_str": f"rule_{job.name}",
            "account": "",
            "partition": f" -p {partition}" if partition else "",
            "workdir": "WORKDIR",
        }
        record["sbatch"] = get_submit_command(job, params, settings=settings) + set_gres_string(job)
        gpu_job = bool(job.resources.get("gpu") or "gpu" in job.resources.get("gres", ""))
        record["srun"] = f"srun -n1 {get_cpu_setting(job, gpu_job)} {get_gpu_setting(job)}".strip()
    except Exception as err:  # the plugin raises WorkflowError; record it for the test to report
        record["error"] = f"{type(err).__name__}: {err}"
    return record


def main() -> int:
    out = Path(sys.argv[1])
    records = []
    settings = ExecutorSettings()  # the plugin's defaults; the profile sets no executor options
    original = dryrun.Executor.run_job

    def run_job(self, job):
        jobs = job.jobs if job.is_group() else [job]
        records.extend(check_job(j, settings) for j in jobs)
        return original(self, job)

    dryrun.Executor.run_job = run_job
    try:
        snakemake_main(["-n", *sys.argv[2:]])
        status = 0
    except SystemExit as done:
        status = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    return status


if __name__ == "__main__":
    sys.exit(main())
