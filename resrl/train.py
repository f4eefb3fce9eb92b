"""CLI: ``python -m resrl.train method=resrl model=smollm2-135m task=arith trainer.steps=12``.

Hydra composes ``experiments/train.yaml`` with the groups ``method/``, ``model/``, ``task/`` and ``trainer/``;
outputs go to ``results/runs/<run_name>/`` (metrics.jsonl, eval.jsonl, checkpoints/, final_model/,
run_config.json). Re-running the same command resumes from the newest valid checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

import resrl.methods as methods
from resrl.cli_errors import exit_on_user_error
from resrl.paths import REPO_ROOT
from resrl.trainer.config import TrainerConfig

CONFIG_DIR = REPO_ROOT / "experiments"


def build_trainer(config: dict[str, Any]):
    """Validate every part of a resolved config, then build the trainer (fails fast, naming the field)."""
    for key in ("method", "model", "task", "trainer", "output_dir"):
        if key not in config:
            raise ValueError(f"config has no '{key}' section")
    method = methods.build(**config["method"])
    trainer_cfg = TrainerConfig.from_mapping(config["trainer"])
    # heavy imports (transformers) only after the cheap checks, so a bad field fails in seconds
    from evaluators.common.provenance import write_provenance
    from resrl.diagnostics.step import DiagnosticsConfig
    from resrl.tasks import make_task
    from resrl.trainer.loop import Trainer

    task = make_task(config["task"])
    run_dir = Path(config["output_dir"])
    run_dir = run_dir.resolve()  # relative to the working directory (Hydra does not chdir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_provenance(run_dir / "run_config.json", config, seed=trainer_cfg.seed)
    diagnostics = DiagnosticsConfig.from_mapping(config.get("diagnostics"))
    return Trainer(method, config["model"], task, trainer_cfg, run_dir, run_config=config, diagnostics=diagnostics)


def run(config: dict[str, Any]) -> dict[str, Any]:
    summary = build_trainer(config).train()
    print(json.dumps(summary, indent=2))
    return summary


@hydra.main(config_path=str(CONFIG_DIR), config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN and hc.job.override_dirname:
        cfg.output_dir = f"{cfg.output_dir}/{hc.job.override_dirname}"
    with exit_on_user_error():  # a bad field or file: one "error: ..." line, exit status 2
        run(OmegaConf.to_container(cfg, resolve=True))


if __name__ == "__main__":
    main()
