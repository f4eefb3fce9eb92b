"""The GPU DAG profiles (paper, smoke) as a cluster runs them: every rule runs the profile's interpreter (the one
cluster environment), the veRL launcher and the checkpoint merger get that interpreter and the same absolute run
directory whatever `snakemake -d` is, and the smoke profile lists a small but complete DAG."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import job_counts, run_snakemake

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_PY = str(
    ROOT / ".venv-cluster" / "bin" / "python"
)  # `python: .venv-cluster/bin/python` in the profiles


def dry_run(workdir: Path, *config: str, until: str | None = None) -> str:
    extra = ("--until", until) if until else ()
    proc = run_snakemake(*extra, workdir=workdir, config=config, print_commands=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return proc.stdout


def jobs_with_commands(out: str) -> list[tuple[str, str]]:
    """(rule, shell command) of every job in `snakemake -n -p` output."""
    found, rule = [], None
    for line in out.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):$", line):
            rule = m.group(1)
        elif line.startswith("Shell command:") and line.split(":", 1)[1].strip() != "None":  # `all` has none
            found.append((rule, line.split("Shell command:", 1)[1].strip()))
    return found


def programs(command: str) -> list[list[str]]:
    """Each `&&`-joined command without its leading VAR=value assignments and its `> log 2>&1`."""
    out = []
    for part in command.split(" && "):
        words = shlex.split(part.split(" > ", 1)[0])
        while words and re.match(r"^[A-Z_]+=", words[0]):
            words.pop(0)
        out.append(words)
    return out


def train_commands(out: str, model: str | None = None) -> dict[str, list[list[str]]]:
    """``<domain>/<variant>`` -> the argvs of its train job ([launcher, merger] on veRL, [trainer] locally), of
    ``model`` only when given."""
    found = {}
    for rule, cmd in jobs_with_commands(out):
        if rule != "train" or (model is not None and f"'model={model}'" not in cmd):
            continue
        domain, _model, variant = re.search(
            r"output_dir=\S*?results/runs/\w+/(\w+)/([\w.-]+)/(\w+)/s\d+'", cmd
        ).groups()
        found[f"{domain}/{variant}"] = programs(cmd)
    return found


@pytest.mark.parametrize(
    "config, python",
    [
        (["profile=paper"], CLUSTER_PY),
        (["profile=smoke"], CLUSTER_PY),
        (
            ["profile=paper", "python=/opt/env/bin/python"],
            "/opt/env/bin/python",
        ),  # --config python=... overrides
        (["profile=tiny"], sys.executable),  # no `python` key: the interpreter running Snakemake
    ],
)
def test_every_rule_runs_the_profiles_interpreter(tmp_path, config, python):
    jobs = jobs_with_commands(dry_run(tmp_path, *config))
    rules = {rule for rule, _ in jobs}
    assert {"train", "table1", "compare_paper"} <= rules and any(r.startswith("metrics_") for r in rules)
    wrong = [(rule, argv[:3]) for rule, cmd in jobs for argv in programs(cmd) if argv[0] != python]
    assert not wrong, wrong
    if "profile=tiny" in config:
        return
    trains = train_commands(dry_run(tmp_path, *config, until="train")).values()
    local = [argvs for argvs in trains if argvs[0][1:3] == ["-m", "resrl.train"]]
    assert all(
        len(argvs) == 1 for argvs in local
    )  # multi-turn domains train on the local trainer (a GPU node)
    for launcher, merger in (argvs for argvs in trains if argvs not in local):
        # the veRL launcher runs its veRL command (Ray's driver, whose workers inherit it) with cluster.python
        assert (
            launcher[1:3] == ["-m", "resrl.backends.verl.launch"] and f"cluster.python={python}" in launcher
        )
        # the checkpoint merger runs `python -m verl.model_merger` with --python
        assert merger[1:3] == ["-m", "resrl.backends.verl.checkpoint"]
        assert merger[merger.index("--python") + 1] == python


def test_launcher_and_merger_get_the_same_absolute_run_dir(tmp_path):
    work = tmp_path / "work"
    trains = train_commands(dry_run(work, "profile=paper", until="train"), model="qwen3-4b")
    launcher, merger = trains["math/resrl"]
    run_dir = str(work / "results" / "runs" / "paper" / "math" / "qwen3-4b" / "resrl" / "s0")
    assert f"output_dir={run_dir}" in launcher and merger[3] == run_dir
    # and both tools resolve it to that folder, run from a directory that is neither the repository nor -d
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plan = subprocess.run(
        [sys.executable, *launcher[1:], "dry_run=true"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plan.returncode == 0, plan.stderr[-2000:]
    summary = json.loads(plan.stdout[: plan.stdout.index("\n# veRL command")])
    assert summary["run_dir"] == run_dir and summary["checkpoint_dir"] == f"{run_dir}/verl_checkpoints"
    assert summary["cluster"]["python"] == CLUSTER_PY and summary["command"][0] == CLUSTER_PY
    merge = subprocess.run(
        [sys.executable, *merger[1:]], cwd=elsewhere, capture_output=True, text=True, timeout=120
    )
    assert (
        merge.returncode == 2 and f"under {run_dir}/verl_checkpoints" in merge.stderr
    )  # nothing trained yet


def test_smoke_profile_lists_both_methods_and_every_table(tmp_path):
    out = dry_run(tmp_path / "work", "profile=smoke")
    jobs = job_counts(out)
    assert jobs["train"] == 2 * 4  # GRPO and ResRL on Qwen3-0.6B, in each of the four domains
    assert jobs["sample_math"] == jobs["metrics_math"] == 3  # with the untrained backbone
    assert jobs["evaluate_code"] == jobs["evaluate_agents"] == jobs["evaluate_bfcl"] == 3
    for report in ("table1", "table2", "table3", "table4", "passk_figure", "compare_paper", "preflight"):
        assert jobs[report] == 1, report
    # the veRL launcher composes what the DAG passes (1 GPU, a few steps), for both methods, on the stand-in data of
    # every domain (the agent domain's episodes through our agent loop)
    trains = train_commands(dry_run(tmp_path / "work", "profile=smoke", until="train"))
    assert not [k for k, v in trains.items() if v[0][1:3] == ["-m", "resrl.train"]] and len(trains) == 8
    for key, (launcher, *_) in trains.items():
        if launcher[1:3] == ["-m", "resrl.train"]:
            continue
        variant = key.split("/")[1]
        assert launcher[3] == "cluster=smoke" and "model=qwen3-0.6b" in launcher
        plan = subprocess.run(
            [sys.executable, *launcher[1:], "dry_run=true"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert plan.returncode == 0, plan.stderr[-2000:]
        summary = json.loads(plan.stdout[: plan.stdout.index("\n# veRL command")])
        assert summary["method"]["name"] == variant and summary["cluster"]["gpus_per_node"] == 1
        steps, batch = (2, 2) if key.startswith("alfworld/") else (4, 8)  # the agent domain's own sizes
        if key.startswith("alfworld/"):  # episodes through our agent loop in veRL's rollout workers
            assert any(
                c.startswith("actor_rollout_ref.rollout.agent.agent_loop_config_path=")
                for c in summary["command"]
            )
        assert {
            f"trainer.total_training_steps={steps}",
            f"data.train_batch_size={batch}",
            "trainer.n_gpus_per_node=1",
            "actor_rollout_ref.model.path=Qwen/Qwen3-0.6B",
        } <= set(summary["command"])
