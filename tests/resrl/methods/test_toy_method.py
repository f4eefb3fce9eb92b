"""Adding a method is one module: a toy method registered here (a captured layer, an extra trainable module, its
own token advantages) trains with the local trainer, runs the mechanism diagnostics, translates for veRL and goes
through veRL's actor loss, with no code naming it anywhere else."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

import resrl.methods as methods
from resrl.methods import register
from resrl.methods.base import Method, PGConfig, PolicyInputs
from tests.helpers import HashTask as SharedHashTask
from tests.helpers import small_trainer_config


@dataclass
class ToyConfig(PGConfig):
    layer: int = -3
    scale: float = 0.5


class Toy(Method):
    """GRPO with its token advantages scaled, plus a learned gate on the prompt representation (a toy extra module
    whose output reaches the loss through ``PolicyInputs.extras``)."""

    Config = ToyConfig

    @property
    def captured_layers(self) -> tuple[int, ...]:
        return (self.cfg.layer,)

    @property
    def prompt_repr(self) -> str | None:
        return "all"

    def build_modules(self, hidden_size: int) -> dict[str, torch.nn.Module]:
        return {"gate": torch.nn.Linear(hidden_size, 1)}

    def module_param_groups(self, modules):
        return [{"params": list(modules["gate"].parameters()), "lr": 1e-2, "weight_decay": 0.0}]

    def module_inputs(self, modules, prompt_repr):
        return {"extras": {"gate": modules["gate"](prompt_repr).squeeze(-1)}}

    def token_advantages(self, batch: PolicyInputs) -> torch.Tensor:
        return super().token_advantages(batch) * self.cfg.scale

    def loss(self, batch: PolicyInputs):
        assert batch.hidden is not None  # the captured layer arrived
        loss, metrics = super().loss(batch)
        gate = batch.extras["gate"]
        return loss + 1e-3 * gate.pow(2).mean(), {**metrics, "toy/gate": float(gate.detach().mean())}


@pytest.fixture(scope="module")
def toy():
    if "toy" not in methods.names():
        register("toy")(Toy)
    return methods.build("toy")


class HashTask(SharedHashTask):
    prompt = "q{index}"
    wrong = -1.0


def test_the_local_trainer_and_the_diagnostics_run_the_toy(toy, tmp_path):
    from resrl.diagnostics.step import DiagnosticsConfig
    from resrl.trainer.loop import Trainer

    cfg = small_trainer_config(steps=1, eval_problems=1, eval_n=1)
    trainer = Trainer(
        toy, "tiny-qwen3", HashTask(), cfg, tmp_path, diagnostics=DiagnosticsConfig(enabled=True, every=1)
    )
    gate = trainer.modules["gate"].weight.detach().clone()
    assert [g.get("lr") for g in trainer.optimizer.param_groups][1] == 1e-2  # its own group
    rec = trainer.train_step()
    assert "toy/gate" in rec and any(k.startswith("diag/head/") for k in rec)
    assert not torch.equal(gate, trainer.modules["gate"].weight)  # the module trained


def test_verl_translation_asks_the_toy(toy):
    from resrl.backends.verl.config import ADV_GRPO, ClusterSettings, translate
    from resrl.backends.verl.launch import compose

    config = compose(["method=grpo", "model=qwen3-1.7b"])
    config["method"] = {"name": "toy", "layer": -3}
    plan = translate(config, ClusterSettings.from_mapping(config["cluster"]), environ={})
    assert plan.overrides["algorithm.adv_estimator"] == ADV_GRPO
    try:
        from resrl.backends.verl.workers import capture_layers
    except ImportError:
        pytest.skip("verl is not importable here (make test-verl runs the worker half)")
    assert capture_layers(toy) == (-3, -1)  # its layer, and the last one for the prompt representation


def test_verl_actor_loss_runs_the_toy(toy):
    pytest.importorskip("verl", reason="make test-verl")
    from tensordict import TensorDict
    from verl.workers.config import FSDPActorConfig

    from resrl.backends.verl.losses import method_actor_loss

    def nested(rows):
        return torch.nested.nested_tensor(
            [torch.tensor(r, dtype=torch.float32) for r in rows],  # noqa: E731
            layout=torch.jagged,
        )

    data = TensorDict(
        {
            "prompts": nested([[1, 1]] * 4),
            "responses": nested([[2, 2]] * 4),
            "input_ids": nested([[1] * 4] * 4),
            "response_mask": nested([[1.0, 1.0]] * 4),
            "old_log_probs": nested([[-1.0, -1.0]] * 4),
            "advantages": nested([[1.0] * 2, [-1.0] * 2] * 2),
            "rm_scores": nested([[0.0, 1.0], [0.0, -1.0]] * 2),
        },
        batch_size=[4],
    )
    data["uid"] = ["a"] * 4
    out = {
        "log_probs": -torch.rand(16),
        "resrl_hidden_-3": torch.randn(16, 8),
        "resrl_hidden_-1": torch.randn(16, 8),
    }
    config = FSDPActorConfig(
        strategy="fsdp",
        rollout_n=4,
        ppo_mini_batch_size=4,
        ppo_micro_batch_size_per_gpu=4,
        use_dynamic_bsz=False,
    )
    loss, metrics = method_actor_loss(config, out, data, method=toy, modules=toy.build_modules(8))
    assert torch.isfinite(loss) and "toy/gate" in metrics
