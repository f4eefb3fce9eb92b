"""CLI: ``python -m resrl.train method=resrl model=smollm2-135m task=arith trainer.steps=12``.

Hydra composes ``experiments/train.yaml`` with the groups ``method/``, ``model/``, ``task/`` and ``trainer/``;
outputs go to ``results/runs/<run_name>/`` (metrics.jsonl, eval.jsonl, checkpoints/, final_model/,
run_config.json). Re-running the same command resumes from the newest valid checkpoint.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

import resrl.methods as methods
from resrl.cli_errors import exit_on_user_error, hydra_cli
from resrl.methods.schema import register_method_schemas
from resrl.paths import REPO_ROOT
from resrl.trainer import run_record
from resrl.trainer.config import TrainerConfig
from resrl.trainer.metrics_log import append_jsonl

CONFIG_DIR = REPO_ROOT / "experiments"
register_method_schemas()  # experiments/method/*.yaml extend the method dataclasses (typed, only what differs)


def _check_device(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"trainer.device={device} but torch sees no CUDA device; use trainer.device=cpu")


def build_trainer(config: dict[str, Any], run_dir: Path | None = None):
    """Validate every part of a resolved config, then build the trainer (fails fast, naming the field). The run
    record (run_config.json, run_identity.json) is written only once the model has loaded, for a new run."""
    for key in ("method", "model", "task", "trainer", "output_dir"):
        if key not in config:
            raise ValueError(f"config has no '{key}' section")
    method = methods.build(**config["method"])
    from resrl.trainer.loop import check_local_method  # (cheap: a bad method fails before the model loads)

    check_local_method(method)
    trainer_cfg = TrainerConfig.from_mapping(config["trainer"])
    _check_device(trainer_cfg.device)
    run_dir = Path(run_dir if run_dir is not None else config["output_dir"]).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    # heavy imports (transformers) only after the cheap checks, so a bad field fails in seconds
    from resrl.diagnostics.step import DiagnosticsConfig
    from resrl.models import check_model_available
    from resrl.records.provenance import run_provenance, write_provenance
    from resrl.tasks import make_task
    from resrl.trainer.loop import Trainer

    diagnostics = DiagnosticsConfig.from_mapping(config.get("diagnostics"))
    task = make_task(config["task"])
    check_model_available(config["model"])
    status = run_record.check_run_folder(run_dir, config)
    if status == "complete":
        return None
    trainer = Trainer(
        method, config["model"], task, trainer_cfg, run_dir, run_config=config, diagnostics=diagnostics
    )
    if status == "new":
        write_provenance(run_dir / "run_config.json", config, seed=trainer_cfg.seed)
        run_record.write_identity(run_dir, config)
    else:
        run_record.clear_complete(run_dir)  # continuing a finished run to more steps
        append_jsonl(
            run_dir / "resumes.jsonl", run_provenance(config, seed=trainer_cfg.seed) | {"step": trainer.step}
        )
    return trainer


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume) the run of ``config`` in its ``output_dir``, holding the folder's lock throughout."""
    from resrl.records import exclusive_lock

    run_dir = Path(config["output_dir"]).resolve()  # relative to the working directory (Hydra does not chdir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(run_dir / run_record.LOCK_FILE, what=f"run folder {run_dir}"):
        trainer = build_trainer(config, run_dir)
        if trainer is None:
            done = json.loads((run_dir / run_record.COMPLETE_FILE).read_text())
            print(
                f"[train] {run_dir} is already complete (step {done.get('step')}); nothing to do",
                file=sys.stderr,
            )
            print(json.dumps(done, indent=2))
            return done
        summary = trainer.train()
    print(json.dumps(summary, indent=2))
    return summary


def default_run_name(config: dict[str, Any], defaults: dict[str, Any]) -> str:
    """``<method>-<model>-<task>``, plus the settings that differ from the defaults of the chosen config groups
    (``_rank16_lr0.001``), or a short fingerprint of them when that would be long."""
    from resrl.records import config_fingerprint, differing_keys
    from resrl.records.fingerprint import flatten

    base = f"{config['method']['name']}-{config['model']['name']}-{config['task']['name']}"
    neutral = run_record.NEUTRAL_KEYS + ("diagnostics",)
    keys = differing_keys(defaults, config, neutral)
    if not keys:
        return base
    flat = flatten(config)
    parts = []
    for k in keys:
        value = flat.get(k, "none")
        value = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(re.sub(r"[^A-Za-z0-9.,+-]", "", k.rsplit(".", 1)[-1] + value))
    suffix = "_".join(parts)
    if len(suffix) > 48:
        suffix = config_fingerprint({k: flat.get(k) for k in keys})[:10]
    return f"{base}_{suffix}"


def _help() -> str:
    import resrl.methods as m
    from resrl.models import available_models

    groups = {g: sorted(p.stem for p in (CONFIG_DIR / g).glob("*.yaml")) for g in ("task", "trainer")}
    return "\n".join(
        [
            "python -m resrl.train method=<name> model=<name> task=<name> trainer=<name> [field=value ...]",
            "",
            f"method:  {', '.join(m.names())}   (fields: experiments/method/<name>.yaml and its dataclass)",
            f"model:   {', '.join(available_models())}",
            f"task:    {', '.join(groups['task'])}",
            f"trainer: {', '.join(groups['trainer'])}   (every field: experiments/trainer/paper.yaml)",
            "other:   run_name=..., output_dir=..., diagnostics.enabled=true, diagnostics.every=N",
            "",
            "A run folder belongs to one configuration; rerunning the same command resumes or says it is complete.",
        ]
    )


@hydra_cli(
    CONFIG_DIR,
    "train",
    groups={"method": None, "model": None, "task": None, "trainer": None},
    help_text=_help,
    presets=["train"],
)
@hydra.main(config_path=str(CONFIG_DIR), config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    from resrl.records import FolderLocked

    with exit_on_user_error(
        extra=(FolderLocked,)
    ):  # a bad field or file, a busy folder: one line, exit status 2
        config = OmegaConf.to_container(cfg, resolve=True)
        given = {o.split("=", 1)[0].lstrip("+~") for o in hc.overrides.task}
        if not given & {"run_name", "output_dir"}:  # the name says which settings differ from the defaults
            groups = [
                o for o in hc.overrides.task if o.split("=", 1)[0] in ("method", "model", "task", "trainer")
            ]
            from hydra import compose

            defaults = OmegaConf.to_container(compose(config_name="train", overrides=groups), resolve=True)
            config["run_name"] = default_run_name(config, defaults)
            config["output_dir"] = str(Path(str(cfg.output_dir)).parent / config["run_name"])
        if hc.mode == RunMode.MULTIRUN and hc.job.override_dirname:
            config["output_dir"] = f"{config['output_dir']}/{hc.job.override_dirname}"
        run(config)


if __name__ == "__main__":
    main()
