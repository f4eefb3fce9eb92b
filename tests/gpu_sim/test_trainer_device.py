"""The local trainer's update with every tensor on the trainer's device (issue 16, defect 5).

``trainer.device=cuda`` left scores, rewards, advantages and group ids on the CPU, so every method's loss mixed
devices. Proxy: the groups are collected normally, then the update (batching, old log-probs, every method's loss,
backward) runs with the default device set to ``meta``: any tensor the trainer builds without naming the
trainer's device lands on ``meta`` and the first op mixing it with the model's CPU tensors raises. The optimizer
step runs with the CPU default, as on a GPU torch keeps AdamW's step counters on the host by design.
"""

from __future__ import annotations

import pytest
import torch

import resrl.methods as methods
from resrl.diagnostics.step import DiagnosticsConfig
from resrl.trainer.loop import Trainer
from tests.helpers import HashTask as SharedHashTask
from tests.helpers import local_methods, reading_tool_text, small_trainer_config

LOCAL_METHODS = local_methods()  # PPO needs veRL's critic: refused by the local trainer, tested apart


class HashTask(SharedHashTask):
    prompt = "q{index}"
    wrong = 0.0


def _update_under_stray_device(name, tmp_path, stray_device, diagnostics=None):
    extra = {"rank": 4} if name == "resrl" else {}
    cfg = small_trainer_config(steps=1, seed=1)
    trainer = Trainer(
        reading_tool_text(methods.build(name, **extra)),
        "tiny-qwen3",
        HashTask(),
        cfg,
        tmp_path,
        diagnostics=diagnostics,
    )
    groups, record = trainer.collect()
    host_step = trainer.optimizer.step

    def step_on_host(*args, **kwargs):
        with torch.device("cpu"):
            return host_step(*args, **kwargs)

    trainer.optimizer.step = step_on_host
    before = {k: v.detach().clone() for k, v in trainer.model.named_parameters()}
    with stray_device():
        rec = trainer.update(groups, record)
    assert rec["step"] == 1
    assert any(not torch.equal(before[k], v) for k, v in trainer.model.named_parameters())
    return rec


@pytest.mark.filterwarnings("ignore:Seems like `optimizer.step\\(\\)` has been overridden")
@pytest.mark.parametrize("name", LOCAL_METHODS)
def test_update_builds_every_tensor_on_the_trainer_device(name, tmp_path, stray_device):
    _update_under_stray_device(name, tmp_path, stray_device)


@pytest.mark.filterwarnings("ignore:Seems like `optimizer.step\\(\\)` has been overridden")
@pytest.mark.parametrize("name", ["resrl", "grpo"])
def test_update_with_mechanism_diagnostics_on_the_trainer_device(name, tmp_path, stray_device):
    """The diagnostics move the policy's outputs to the host and compute there; what they create must be too."""
    rec = _update_under_stray_device(name, tmp_path, stray_device, DiagnosticsConfig(enabled=True, every=1))
    assert "diag/lld/frac_groups" in rec or any(k.startswith("diag/lld/") for k in rec)
    assert "diag/align/cos" in rec
