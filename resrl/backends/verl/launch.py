"""CLI: ``python -m resrl.backends.verl.launch cluster=paper method=resrl model=qwen3-4b [dry_run=true]``.

Composes ``experiments/verl/launch.yaml`` (group ``cluster/`` there; ``method/``, ``model/``, ``task/``,
``trainer/`` from ``experiments/``), translates it with :func:`resrl.backends.verl.config.translate`, writes
the training parquet and ``verl_plan.json`` into the run directory, then runs
``python -m resrl.backends.verl.main <veRL overrides>`` with ``$RESRL_VERL_METHOD`` set. That process starts
(or joins, with ``$RAY_ADDRESS``) a Ray cluster and runs veRL's V1 PPO trainer. ``dry_run=true`` prints the
resolved inputs, the full veRL override list and the command, and touches nothing. Extra veRL overrides go
after ``--``: ``... model=qwen3-8b -- trainer.logger=[console,wandb]``.

Importing this module does not import ``verl``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from resrl.backends.verl.config import (
    ClusterSettings,
    VerlPlan,
    check_extra_overrides,
    plan_summary,
    translate,
)
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments" / "verl"
SHARED_CONFIG_DIR = REPO_ROOT / "experiments"


def compose(overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The resolved launch config as a plain dict (Hydra compose; our groups plus ``cluster/``)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from resrl.methods.schema import register_method_schemas

    register_method_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra_compose(
            config_name="launch",
            overrides=[*overrides, f"hydra.searchpath=[file://{SHARED_CONFIG_DIR}]"],
        )
    GlobalHydra.instance().clear()
    return OmegaConf.to_container(cfg, resolve=True)


def build_plan(config: dict[str, Any]) -> tuple[VerlPlan, ClusterSettings]:
    cluster = ClusterSettings.from_mapping(config["cluster"])
    run_dir = Path(
        config["output_dir"]
    ).absolute()  # relative to the working directory, as the checkpoint merger
    return translate(config, cluster, run_dir), cluster


def train_rows(config: dict[str, Any], cluster: ClusterSettings) -> int:
    t = config["trainer"]
    return cluster.train_rows or int(t["steps"]) * int(t["prompts_per_step"])


def write_train_parquet(
    task_config: dict[str, Any], path: Path, limit: int, max_new_tokens: int | None = None
) -> int:
    """The task's first ``limit`` training problems in veRL's RL-dataset format (atomic write); returns rows.

    Columns: ``data_source`` (task name), ``prompt`` (our chat messages, instruction included),
    ``ability``, ``reward_model`` {style, ground_truth}, ``extra_info`` {index, id, reward, correct_score,
    wrong_score, scored} (the task's reward name and scores, as resolved by the task config:
    ``reward.compute_score`` maps the verdict to those scores). An environment task (``kind: env``) gets one row
    per episode for our agent loop instead (``resrl.backends.verl.agent_loop.episode_rows``; ``max_new_tokens``:
    the per-turn budget).
    """

    from resrl.tasks import make_task

    task = make_task(task_config)
    if getattr(task, "multi_turn", False):  # episodes, played by our agent loop in veRL's rollout workers
        from resrl.backends.verl.agent_loop import episode_rows

        if not max_new_tokens:
            raise ValueError(
                f"task {task.name!r} (kind: env): write_train_parquet needs the per-turn max_new_tokens"
            )
        return _write_rows(episode_rows(dict(task_config), limit, max_new_tokens), path, task.name)
    reward = str(getattr(getattr(task, "config", None), "reward", task_config.get("reward", "math_grader")))
    scores = {"correct_score": float(task.correct_score), "wrong_score": float(task.wrong_score)}
    scores["scored"] = bool(getattr(getattr(task, "config", None), "scored", False))
    rows = []
    for i, p in enumerate(task.problems("train", limit=limit)):
        rows.append(
            {
                "data_source": task.name,
                "prompt": [dict(m) for m in p.prompt_messages],
                "ability": "math",
                "reward_model": {"style": "rule", "ground_truth": str(p.answer)},
                "extra_info": {"index": i, "id": p.id, "reward": reward, **scores},
            }
        )
    return _write_rows(rows, path, task.name)


def _write_rows(rows: list[dict[str, Any]], path: Path, name: str) -> int:
    import pandas as pd

    if not rows:
        raise ValueError(f"task {name!r} has no training problems")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pd.DataFrame(rows).to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return len(rows)


def preflight(cluster: ClusterSettings) -> None:
    """Checks on the job's interpreter that would otherwise fail inside Ray workers (RuntimeError naming the fix):
    it imports verl and vllm, and flash_attn when the cluster needs it (veRL's default attention kernels)."""
    modules = ["verl", "vllm"] + (["flash_attn"] if cluster.needs_flash_attn else [])
    code = (
        "import importlib.util, sys; missing = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]; "
        "print(' '.join(missing))"
    )
    try:
        out = subprocess.run(
            [cluster.python, "-c", code, *modules], capture_output=True, text=True, timeout=120
        )
    except OSError as err:
        raise RuntimeError(f"cluster.python={cluster.python!r} cannot run: {err}") from None
    missing = out.stdout.split()
    if out.returncode != 0 or missing:
        hint = (
            "; install flash-attn (scripts/setup_cluster_env.sh does) or set cluster.attn_implementation=sdpa"
            if "flash_attn" in missing
            else "; use the cluster environment (make cluster-env, docs/cluster.md)"
        )
        raise RuntimeError(
            f"cluster.python={cluster.python} lacks {', '.join(missing) or out.stderr.strip()[-200:]}{hint}"
        )


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Our overrides, then veRL overrides after a ``--``."""
    argv = list(argv)
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1 :]
    return argv, []


def main(argv: Sequence[str] | None = None) -> int:
    ours, extra = split_argv(sys.argv[1:] if argv is None else argv)
    try:
        config = compose(ours)
        plan, cluster = build_plan(config)
        check_extra_overrides(extra, int(config["trainer"]["n"]))
    except Exception as err:  # composition and validation errors name the field
        print(f"error: {err}", file=sys.stderr)
        return 2
    plan.extra = list(extra)
    rows = train_rows(config, cluster)
    summary = plan_summary(plan, config, cluster) | {
        "train_rows": rows,
        "extra_overrides": plan.extra,
        "command": plan.command(cluster.python),
    }
    if config.get("dry_run"):
        print(json.dumps(summary, indent=2, default=str))
        print("\n# veRL command (dry run, nothing written or started):")
        print(plan.shell(cluster.python))
        return 0
    try:
        preflight(cluster)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    written = write_train_parquet(
        config["task"], plan.train_parquet, rows, int(config["trainer"]["max_new_tokens"])
    )
    if config["task"].get("kind") == "env":
        from resrl.backends.verl.agent_loop import loop_config_yaml
        from resrl.backends.verl.config import agent_loop_config_path

        agent_loop_config_path(plan.run_dir).write_text(loop_config_yaml())
    print(f"[verl] wrote {written} training prompts to {plan.train_parquet}", file=sys.stderr)
    tmp = plan.run_dir / "verl_plan.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, default=str))
    os.replace(tmp, plan.run_dir / "verl_plan.json")
    env = {**os.environ, **plan.env}
    print(f"[verl] {plan.shell(cluster.python)}", file=sys.stderr)
    return subprocess.call(plan.command(cluster.python), env=env, cwd=REPO_ROOT)


if __name__ == "__main__":
    sys.exit(main())
