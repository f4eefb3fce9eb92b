"""Experiment trackers of the local trainer, chosen as veRL chooses them (``trainer.logger=[console,tensorboard]``):
``console`` (one line per step), ``tensorboard`` (event files under ``<run>/tensorboard/``, by torch's
``SummaryWriter``, as veRL's adapter) and ``wandb`` (Weights & Biases; ``WANDB_MODE=offline`` works without an
account). ``metrics.jsonl`` stays the record the DAG reads; the trackers get the same numbers.

Names: where the quantity is the one veRL logs, the trackers use veRL's name (:data:`VERL_NAMES`, e.g.
``reward_mean`` -> ``critic/score/mean``); other keys keep their own name; held-out evaluation records go under
``val/``.

Resume: the TensorBoard writer of a resumed run starts with ``purge_step`` = the first step it will write, so
TensorBoard drops the events an interrupted run wrote after its last checkpoint (no step appears twice); W&B
resumes the same run id (derived from the run folder) and skips steps it already has.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Trackers ``trainer.logger`` may name.
TRACKERS = ("console", "tensorboard", "wandb")

#: Local metric name -> veRL's name for the same quantity (verl/trainer/ppo/metric_utils.py, ray_trainer.py).
VERL_NAMES = {
    "reward_mean": "critic/score/mean",
    "response_length": "response_length/mean",
    "truncated_frac": "response_length/clip_ratio",
    "entropy": "actor/entropy",
    "grad_norm": "actor/grad_norm",
    "lr": "actor/lr",
    "kl_to_ref": "actor/kl_loss",
    "time/step_s": "timing_s/step",
    "time/rollout_s": "timing_s/gen",
    "time/old_logprob_s": "timing_s/old_log_prob",
    "time/update_s": "timing_s/update_actor",
}


def check_trackers(names: Sequence[str]) -> list[str]:
    """``names`` as a list; raises ValueError naming ``trainer.logger`` and an unknown tracker."""
    names = [str(n) for n in names]
    bad = [n for n in names if n not in TRACKERS]
    if bad:
        raise ValueError(f"trainer.logger: unknown tracker(s) {bad}; valid: {', '.join(TRACKERS)}")
    return names


def scalars(record: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of a record under their tracker names (``step`` left out)."""
    out = {}
    for key, value in record.items():
        if key == "step" or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out[prefix + VERL_NAMES.get(key, key)] = float(value)
    return out


class Trackers:
    """The run's trackers. ``start_step``: the last step already logged (0 for a new run, the checkpoint's step on
    resume); every later step is logged once."""

    def __init__(
        self,
        names: Sequence[str],
        run_dir: Path,
        project: str,
        experiment: str,
        config: Mapping[str, Any] | None = None,
        start_step: int = 0,
    ) -> None:
        self.names = check_trackers(names)
        self.run_dir = Path(run_dir)
        self.start_step = int(start_step)
        self._tb = self._wandb = None
        if "tensorboard" in self.names:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step: events of an interrupted run at or after this step are dropped by TensorBoard's reader
            self._tb = SummaryWriter(
                str(self.run_dir / "tensorboard"), purge_step=self.start_step + 1 if self.start_step else None
            )
        if "wandb" in self.names:
            import wandb

            run_id = hashlib.sha1(str(self.run_dir.resolve()).encode()).hexdigest()[:16]
            self._wandb = wandb.init(
                project=project,
                name=experiment,
                id=run_id,
                resume="allow",
                dir=str(self.run_dir),
                config=dict(config or {}),
            )

    def log(self, record: Mapping[str, Any], step: int, prefix: str = "") -> None:
        """Log one record (a training step, or an evaluation with ``prefix="val/"``) at ``step``."""
        values = scalars(record, prefix)
        if "console" in self.names:
            shown = " ".join(
                f"{k}={v:.4g}" for k, v in values.items() if "/" not in k or k.startswith("val/")
            )
            print(f"[step {step}] {shown}", file=sys.stderr)
        if self._tb is not None:
            for key, value in values.items():
                self._tb.add_scalar(key, value, step)
            self._tb.flush()
        if self._wandb is not None:
            self._wandb.log(values, step=step)  # a resumed run ignores steps below the last one it holds

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._wandb is not None:
            self._wandb.finish()
            self._wandb = None
