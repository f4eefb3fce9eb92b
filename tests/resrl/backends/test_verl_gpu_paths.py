"""veRL 0.9.1 paths a first cluster run takes (issue 16, defects 8, 10, 11); needs verl (`make test-verl`).

- ``trainer.v1.trainer_mode=resrl_sync`` finds our trainer, whose veRL base then runs the *sync* code paths
  (veRL compares the mode with the literal "sync": replay buffer class, gen_batch_size, TransferQueue state).
- the actor losses refuse a micro-batch holding part of a prompt group, before any work.
- veRL's own config accepts the Ray settings the translator writes under SLURM.
"""

from __future__ import annotations

import json

import pytest
import torch

from resrl.backends.verl.config import METHOD_ENV, ClusterProfile, translate
from resrl.paths import REPO_ROOT

try:
    import verl  # noqa: F401

    VERL_ERROR = None
except Exception as err:  # ImportError, or a broken install
    VERL_ERROR = f"verl is not importable in this interpreter ({type(err).__name__}: {err}); run `make test-verl`"

pytestmark = pytest.mark.skipif(VERL_ERROR is not None, reason=VERL_ERROR or "")


@pytest.fixture
def method_env(monkeypatch):
    from resrl.backends.verl.losses import current_method

    def set_method(**fields):
        monkeypatch.setenv(METHOD_ENV, json.dumps(fields))
        current_method.cache_clear()
        return current_method()

    yield set_method
    current_method.cache_clear()


def _verl_config(method: str, environ=None):
    """veRL's composed ppo_trainer config with the translator's overrides."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from resrl.backends.verl.launch import compose as our_compose
    from resrl.backends.verl.main import VERL_CONFIG_DIR

    config = our_compose([f"method={method}", "model=qwen3-1.7b"])
    plan = translate(config, ClusterProfile.from_mapping(config["profile"]), REPO_ROOT / "r", environ=environ or {})
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=VERL_CONFIG_DIR, version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=plan.argv())
    GlobalHydra.instance().clear()
    return cfg


def test_our_trainer_runs_verls_sync_paths(method_env, monkeypatch):
    """Defect 8. veRL's constructor picks the replay buffer by ``trainer_mode == "sync"``; with the mode left at
    ``resrl_sync`` it took ReplayBufferAsync (the async path) and read the missing ``trainer.v1.resrl_sync``
    section."""
    from verl.trainer.ppo.v1 import get_trainer_cls, trainer_base
    from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer

    import resrl.backends.verl.register  # noqa: F401
    from resrl.backends.verl.workers import ResRLSyncTrainer

    method_env(name="resrl")
    cfg = _verl_config("resrl")
    assert cfg.trainer.v1.trainer_mode == "resrl_sync"
    assert get_trainer_cls(cfg.trainer.v1.trainer_mode) is ResRLSyncTrainer  # what veRL's TaskRunnerV1 does
    built = {}

    def record(self, **kwargs):  # veRL's replay buffer constructor, recording what the trainer gave it
        built.update(kwargs, cls=type(self))

    monkeypatch.setattr(trainer_base.ReplayBuffer, "__init__", record)
    monkeypatch.setattr(trainer_base.ReplayBufferAsync, "__init__", record)
    trainer = ResRLSyncTrainer(cfg)
    assert trainer.trainer_mode == "sync" and cfg.trainer.v1.trainer_mode == "sync"
    assert built["cls"] is ReplayBuffer and built["trainer_mode"] == "sync"
    assert built["trainer_config"] == cfg.trainer.v1.sync  # the sync section, not an empty {}


def _micro_batch(uids, t=3, h=8):
    from tensordict import NonTensorData, TensorDict  # noqa: F401

    b = len(uids)
    nested = lambda: torch.nested.nested_tensor([torch.zeros(t) for _ in range(b)], layout=torch.jagged)  # noqa: E731
    data = TensorDict({"prompts": nested(), "responses": nested(), "response_mask": nested(), "advantages": nested(),
                       "rm_scores": nested()}, batch_size=[b])
    data["uid"] = uids
    return data, {"resrl_hidden_-2": torch.zeros(b * 2 * t, h), "resrl_hidden_-1": torch.zeros(b * 2 * t, h),
                  "log_probs": torch.zeros(b * 2 * t)}


@pytest.mark.parametrize("method", ["resrl", "flowrl"])
def test_actor_losses_refuse_a_partial_group(method_env, method):
    """Defect 11: a micro-batch holding 3 of a group's 4 responses (e.g. use_dynamic_bsz) is refused."""
    from verl.workers.config import FSDPActorConfig

    from resrl.algorithms.flowrl import LogZHead
    from resrl.backends.verl.losses import flowrl_actor_loss, resrl_actor_loss

    m = method_env(name=method)
    config = FSDPActorConfig(strategy="fsdp", rollout_n=4, ppo_mini_batch_size=4, ppo_micro_batch_size_per_gpu=4,
                             use_dynamic_bsz=False)
    data, out = _micro_batch(["a", "a", "a", "b"])
    with pytest.raises(ValueError, match=r"sizes \[1, 3\], not whole groups of n=4"):
        if method == "resrl":
            resrl_actor_loss(config, out, data, method=m)
        else:
            flowrl_actor_loss(config, out, data, method=m, log_z=LogZHead(8, 1))


def test_verl_accepts_the_ray_settings_under_slurm():
    """Defect 10: ``ray_kwargs.ray_init.num_cpus`` from SLURM and the job's interpreter for every worker."""
    cfg = _verl_config("grpo", environ={"SLURM_CPUS_PER_TASK": "32"})
    assert cfg.ray_kwargs.ray_init.num_cpus == 32
    assert cfg.ray_kwargs.ray_init.runtime_env.py_executable.endswith("python") or "python" in \
        cfg.ray_kwargs.ray_init.runtime_env.py_executable


def test_flowrl_log_z_head_follows_the_actors_optimiser_settings():
    """On veRL the head has its own AdamW, with the actor's lr, weight decay and betas, the actor's warm-up from lr 0
    (stepped with the actor's scheduler, once per training step) and gradient clipping at the actor's norm."""
    from types import SimpleNamespace

    from resrl.backends.verl.workers import HiddenCaptureMixin

    class Engine:  # the parts of veRL's FSDP engine the mixin calls
        def optimizer_zero_grad(self):
            pass

        def optimizer_step(self):
            return 0.0

        def lr_scheduler_step(self):
            return 1e-6

        def get_data_parallel_group(self):
            return None

    engine = type("E", (HiddenCaptureMixin, Engine), {})()
    optim = SimpleNamespace(lr=1e-3, weight_decay=0.1, betas=(0.9, 0.999), lr_warmup_steps=2, clip_grad=1.0)
    engine.attach_log_z(8, 3, 0.1, "cpu", optim)
    group = engine._resrl_log_z_opt.param_groups[0]
    assert group["weight_decay"] == 0.1 and engine.resrl_log_z.net[3].p == 0.1
    lrs = []
    for _ in range(3):
        lrs.append(group["lr"])
        engine.optimizer_zero_grad()
        (engine.resrl_log_z(torch.randn(4, 8)).sum() * 1e4).backward()  # a huge gradient
        engine.optimizer_step()
        assert torch.nn.utils.clip_grad_norm_(engine.resrl_log_z.parameters(), float("inf")) <= 1.0 + 1e-5
        engine.lr_scheduler_step()
    assert lrs == pytest.approx([0.0, 0.5e-3, 1e-3])
    own = type("E", (HiddenCaptureMixin, Engine), {})()
    own.attach_log_z(8, 3, 0.1, "cpu", optim, lr=1e-2)
    assert own._resrl_log_z_opt.param_groups[0]["weight_decay"] == 0.0
