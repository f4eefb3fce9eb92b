"""veRL checkpoints -> the ``save_pretrained`` folder our evaluators load (``<run_dir>/final_model``).

veRL (FSDP engine) writes ``<default_local_dir>/global_step_<N>/actor/`` with one
``model_world_size_<W>_rank_<r>.pt`` shard per rank, ``fsdp_config.json``, and ``huggingface/`` (config,
tokenizer, generation config; the full weights too when ``hf_model`` is in ``checkpoint.save_contents``);
``latest_checkpointed_iteration.txt`` names the newest step. :func:`convert` copies ``huggingface/`` when it
holds weights, else runs veRL's model merger (``python -m verl.model_merger merge --backend fsdp``, CPU is
enough) and adds the tokenizer files; the result replaces ``out_dir`` atomically and records its source in
``resrl_conversion.json``. Load it with ``resrl.models.load_policy({"name": ..., "source": "hub",
"hub_id": "<out_dir>"})``.

CLI: ``python -m resrl.backends.verl.checkpoint <run_dir> [--step N] [--python PY]`` (the python must have
verl installed when the merger is needed). Importing this module does not import ``verl``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LATEST_FILE = "latest_checkpointed_iteration.txt"
STEP_RE = re.compile(r"^global_step_(\d+)$")
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")
CONVERSION_FILE = "resrl_conversion.json"


def list_steps(ckpt_root: Path) -> list[int]:
    """Steps with a ``global_step_<N>/actor`` folder, ascending."""
    if not ckpt_root.is_dir():
        return []
    steps = [
        int(m.group(1))
        for p in ckpt_root.iterdir()
        if (m := STEP_RE.match(p.name)) and (p / "actor").is_dir()
    ]
    return sorted(steps)


def find_actor_checkpoint(ckpt_root: Path, step: int | None = None) -> tuple[int, Path]:
    """``(step, <ckpt_root>/global_step_<step>/actor)``: the given step, else veRL's latest, else the largest."""
    ckpt_root = Path(ckpt_root)
    steps = list_steps(ckpt_root)
    if not steps:
        raise FileNotFoundError(f"no veRL checkpoint (global_step_<N>/actor) under {ckpt_root}")
    if step is None:
        latest = ckpt_root / LATEST_FILE
        if (
            latest.is_file()
            and latest.read_text().strip().isdigit()
            and int(latest.read_text().strip()) in steps
        ):
            step = int(latest.read_text().strip())
        else:
            step = steps[-1]
    if step not in steps:
        raise FileNotFoundError(f"step {step} not found under {ckpt_root}; available: {steps}")
    return step, ckpt_root / f"global_step_{step}" / "actor"


def has_weights(folder: Path) -> bool:
    return folder.is_dir() and any(any(folder.glob(p)) for p in WEIGHT_PATTERNS)


def merger_command(actor_dir: Path, target_dir: Path, python: str = sys.executable) -> list[str]:
    return [
        python,
        "-m",
        "verl.model_merger",
        "merge",
        "--backend",
        "fsdp",
        "--local_dir",
        str(actor_dir),
        "--target_dir",
        str(target_dir),
    ]


def convert(
    ckpt_root: Path,
    out_dir: Path,
    step: int | None = None,
    python: str = sys.executable,
    card_config: dict | None = None,
) -> Path:
    """Write the actor of ``step`` (default: latest) as a ``save_pretrained`` folder at ``out_dir``; with
    ``card_config`` (the run's resolved method, model, task and trainer: the launcher's ``verl_plan.json``), also its
    model card ``README.md`` (:mod:`resrl.trainer.model_card`), as the local trainer writes it."""
    step, actor = find_actor_checkpoint(Path(ckpt_root), step)
    hf = actor / "huggingface"
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp_{out_dir.name}_", dir=out_dir.parent))
    try:
        if has_weights(hf):
            shutil.copytree(hf, tmp, dirs_exist_ok=True)
            source = "huggingface"
        else:
            if not (actor / "fsdp_config.json").is_file():
                raise FileNotFoundError(
                    f"{actor} has neither weights in huggingface/ nor fsdp_config.json for the merger"
                )
            subprocess.run(merger_command(actor, tmp, python), check=True)
            source = "verl.model_merger"
            for f in hf.iterdir() if hf.is_dir() else []:
                if f.is_file() and not (tmp / f.name).exists():
                    shutil.copy2(f, tmp / f.name)  # tokenizer files, chat template
        if not has_weights(tmp):
            raise RuntimeError(f"conversion of {actor} produced no weight files in {tmp}")
        (tmp / CONVERSION_FILE).write_text(
            json.dumps({"step": step, "actor_dir": str(actor), "via": source}, indent=2)
        )
        if card_config is not None:
            from resrl.trainer.model_card import write_card

            write_card(tmp, card_config, steps=step, backend="veRL")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path, help="a run directory of the launcher (holds verl_checkpoints/)")
    ap.add_argument("--step", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="default: <run_dir>/final_model")
    ap.add_argument("--python", default=sys.executable, help="interpreter with verl, for the model merger")
    args = ap.parse_args(argv)
    plan = args.run_dir / "verl_plan.json"  # the launcher's resolved inputs: the model card's source
    card = json.loads(plan.read_text()) if plan.is_file() else None
    try:
        out = convert(
            args.run_dir / "verl_checkpoints",
            args.out or args.run_dir / "final_model",
            args.step,
            args.python,
            card,
        )
    except (FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
