"""veRL workers and trainer for the methods that need more than log-probs (ResRL, FlowRL).

- :class:`HiddenCaptureMixin`: added to veRL's FSDP engine class of the actor; in training forwards it
  wraps the model call in :func:`resrl.algorithms.hidden.capture_hidden` (a forward hook on the layer, not
  ``output_hidden_states``) and puts the captured states, packed like the log-probs ([total_nnz, H]), into
  ``model_output`` under ``resrl_hidden_<layer>``. The method's extra modules (``method.build_modules``, e.g.
  FlowRL's ``log Z`` head) live here too (own AdamW, grads averaged over the data-parallel group, saved beside
  each checkpoint as ``resrl_modules.pt``).
- :class:`ResRLTrainingWorker`: veRL's ``TrainingWorker`` whose engine gets the mixin.
- :class:`ResRLActorRolloutRefWorker`: veRL's hybrid worker with that actor and our actor loss.
- :class:`ResRLSyncTrainer` (``trainer.v1.trainer_mode=resrl_sync``): veRL's sync trainer with these
  workers and whole prompt groups per rank (see :mod:`resrl.backends.verl.grouping`).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from functools import partial

import ray
import torch
from verl.single_controller.base.decorator import Dispatch, register
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync
from verl.workers.engine_workers import ActorRolloutRefWorker, TrainingWorker

from resrl.algorithms.hidden import capture_hidden
from resrl.backends.verl.config import TRAINER_MODE
from resrl.backends.verl.grouping import balanced_group_order, group_key
from resrl.backends.verl.losses import current_method, hidden_key, method_actor_loss

MODULES_FILE = "resrl_modules.pt"
VERL_SYNC_MODE = "sync"  # the mode string veRL's trainer tests for its synchronous code paths


def capture_layers(method) -> tuple[int, ...]:
    """hidden_states indices the actor must hook for this method: its captured layers, plus the last layer when
    it reads the prompt representation (empty: plain veRL forward)."""
    layers = tuple(method.captured_layers)
    if method.prompt_repr is not None and -1 not in layers:
        layers += (-1,)
    return layers


def pack_hidden(
    hidden: torch.Tensor, seq_lens: torch.Tensor, remove_padding: bool, pad_size: int = 0
) -> torch.Tensor:
    """The hooked layer output in veRL's packed layout [total_nnz, H].

    remove_padding: hidden is [1, total_nnz + pad_size, H] (sequences packed back to back);
    else [B, S, H] right-padded, sequence ``i`` valid for its first ``seq_lens[i]`` positions.
    """
    if remove_padding:
        flat = hidden.squeeze(0)
        total = int(seq_lens.sum())
        return flat[:total]
    return torch.cat([hidden[i, : int(n)] for i, n in enumerate(seq_lens)], dim=0)


class HiddenCaptureMixin:
    """Mixed into veRL's ``FSDPEngineWithLMHead`` (or a subclass) of the actor; see the module docstring."""

    resrl_capture: tuple[int, ...] = ()
    resrl_modules: torch.nn.ModuleDict | None = None
    _resrl_boxes: dict | None = None

    def forward_step(self, micro_batch, loss_function, forward_only):
        if forward_only or loss_function is None or not self.resrl_capture:
            return super().forward_step(micro_batch, loss_function=loss_function, forward_only=forward_only)
        if getattr(self, "use_ulysses_sp", False):
            raise NotImplementedError(
                "hidden-state capture with Ulysses sequence parallelism is not supported"
            )
        with ExitStack() as stack:
            self._resrl_boxes = {
                layer: stack.enter_context(capture_hidden(self.module, layer)) for layer in self.resrl_capture
            }
            try:
                return super().forward_step(
                    micro_batch, loss_function=loss_function, forward_only=forward_only
                )
            finally:
                self._resrl_boxes = None

    def prepare_model_outputs(self, output, output_args, micro_batch, logits_processor_func):
        out = super().prepare_model_outputs(output, output_args, micro_batch, logits_processor_func)
        if self._resrl_boxes:
            from verl.utils import tensordict_utils as tu

            rmpad = tu.get_non_tensor_data(data=micro_batch, key="use_remove_padding", default=True)
            seq_lens = micro_batch["input_ids"].offsets().diff()
            for layer, box in self._resrl_boxes.items():
                if "hidden" not in box:
                    raise RuntimeError(f"the forward hook on layer {layer} did not fire")
                out[hidden_key(layer)] = pack_hidden(
                    box["hidden"], seq_lens, rmpad, output_args.get("pad_size", 0)
                )
        return out

    # The method's extra modules (FlowRL's log Z head): stepped with the policy, averaged over data-parallel ranks,
    # checkpointed beside it. FlowRL's code trains its head inside the actor's AdamW; here the modules have their
    # own AdamW with the actor's settings (lr, unless the method's param group sets one; weight decay; betas), the
    # actor's warm-up schedule (stepped with the actor's scheduler, once per training step) and gradient clipping at
    # the actor's clip norm (clipped on their own, not jointly with the FSDP parameters: the one difference).
    def attach_modules(self, modules: dict, groups: list[dict], device, optim_config) -> None:
        from resrl.trainer.config import warmup_factor

        self.resrl_modules = torch.nn.ModuleDict(modules).to(device)
        param_groups = []
        for g in groups:
            own_lr = "lr" in g
            param_groups.append(
                {
                    "params": list(g["params"]),
                    "lr": g.get("lr", optim_config.lr),
                    "weight_decay": g.get("weight_decay", 0.0 if own_lr else optim_config.weight_decay),
                }
            )
        self._resrl_opt = torch.optim.AdamW(
            param_groups, lr=optim_config.lr, betas=tuple(getattr(optim_config, "betas", (0.9, 0.999)))
        )
        warmup = int(getattr(optim_config, "lr_warmup_steps", 0) or 0)
        self._resrl_sched = torch.optim.lr_scheduler.LambdaLR(
            self._resrl_opt, lambda s: warmup_factor(s, max(warmup, 0), from_zero=True)
        )
        self._resrl_clip = float(getattr(optim_config, "clip_grad", 1.0))

    def optimizer_zero_grad(self):
        super().optimizer_zero_grad()
        if self.resrl_modules is not None:
            self._resrl_opt.zero_grad(set_to_none=True)

    def optimizer_step(self):
        if self.resrl_modules is not None:
            group = self.get_data_parallel_group()
            for p in self.resrl_modules.parameters():
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                if torch.distributed.is_initialized():
                    torch.distributed.all_reduce(p.grad, op=torch.distributed.ReduceOp.AVG, group=group)
            torch.nn.utils.clip_grad_norm_(self.resrl_modules.parameters(), self._resrl_clip)
            self._resrl_opt.step()
        return super().optimizer_step()

    def lr_scheduler_step(self):
        lr = super().lr_scheduler_step()
        if self.resrl_modules is not None:
            self._resrl_sched.step()
        return lr

    def save_checkpoint(self, local_path, *args, **kwargs):
        result = super().save_checkpoint(local_path, *args, **kwargs)
        if self.resrl_modules is not None and local_path is not None and torch.distributed.get_rank() == 0:
            state = {
                "modules": self.resrl_modules.state_dict(),
                "optimizer": self._resrl_opt.state_dict(),
                "scheduler": self._resrl_sched.state_dict(),
            }
            tmp = os.path.join(local_path, MODULES_FILE + ".tmp")
            torch.save(state, tmp)
            os.replace(tmp, os.path.join(local_path, MODULES_FILE))
        return result

    def load_checkpoint(self, local_path, *args, **kwargs):
        result = super().load_checkpoint(local_path, *args, **kwargs)
        path = os.path.join(local_path, MODULES_FILE) if local_path else None
        if self.resrl_modules is not None and path and os.path.exists(path):
            state = torch.load(path, map_location="cpu", weights_only=True)
            self.resrl_modules.load_state_dict(state["modules"])
            self._resrl_opt.load_state_dict(state["optimizer"])
            self._resrl_sched.load_state_dict(state["scheduler"])
        return result


_MIXED: dict[type, type] = {}


def with_hidden_capture(engine_cls: type) -> type:
    """``engine_cls`` with :class:`HiddenCaptureMixin` in front (one class per engine class)."""
    if issubclass(engine_cls, HiddenCaptureMixin):
        return engine_cls
    if engine_cls not in _MIXED:
        _MIXED[engine_cls] = type(f"ResRL{engine_cls.__name__}", (HiddenCaptureMixin, engine_cls), {})
    return _MIXED[engine_cls]


class ResRLTrainingWorker(TrainingWorker):
    """veRL's training worker whose engine captures the hidden states the method needs."""

    def __init__(self, config):
        super().__init__(config)
        # The engine is only constructed here (its model is built later by reset()): switching its class to the
        # mixed-in subclass adds behaviour without changing any state veRL set up. Without captured layers or
        # modules the mixin only passes through.
        self.engine.__class__ = with_hidden_capture(type(self.engine))
        self.engine.resrl_capture = capture_layers(current_method())


class ResRLActorRolloutRefWorker(ActorRolloutRefWorker):
    actor_worker_cls = ResRLTrainingWorker

    @register(dispatch_mode=Dispatch.ONE_TO_ALL)
    def init_model(self):
        """veRL's actor, then our loss for every method: the method's own ``loss`` on the batch its declarations
        ask for (captured layers, prompt representation, extra modules)."""
        super().init_model()
        if self.actor is None:
            return
        method = current_method()
        actor_config = self.loss_fn.keywords["config"]  # veRL's partial(ppo_loss, config=actor_config)
        engine = self.actor.engine
        modules = method.build_modules(engine.model_config.hf_config.hidden_size)
        if modules:
            device = next(engine.module.parameters()).device
            engine.attach_modules(
                modules, method.module_param_groups(modules), device, engine.optimizer_config
            )
            modules = dict(engine.resrl_modules)
        self.loss_fn = partial(method_actor_loss, config=actor_config, method=method, modules=modules)
        self.actor.set_loss_fn(self.loss_fn)


@register_trainer(TRAINER_MODE)
class ResRLSyncTrainer(PPOTrainerSync):
    """veRL's synchronous trainer with our actor worker and group-preserving balancing.

    veRL looks the class up by ``trainer.v1.trainer_mode`` (``resrl_sync``), but its trainer then compares the
    mode with the literal ``"sync"`` (replay buffer class, ``gen_batch_size``, TransferQueue checkpoint state,
    resume: verl 0.9.1 ``trainer/ppo/v1/trainer_base.py``). Before veRL's constructor reads it, the mode in the
    config is set back to ``"sync"``, so every one of those branches takes the synchronous path.
    """

    def __init__(self, config):
        from omegaconf import open_dict

        with open_dict(config):
            config.trainer.v1.trainer_mode = VERL_SYNC_MODE
        super().__init__(config)

    def _init_resource_pool_mgr(self):
        super()._init_resource_pool_mgr()
        for role, cls in list(self.role_worker_mapping.items()):
            if (
                getattr(cls, "__ray_actor_class__", None) is ActorRolloutRefWorker
                or "ActorRollout" in str(role)
                or str(role).endswith("Actor")
            ):
                self.role_worker_mapping[role] = ray.remote(ResRLActorRolloutRefWorker)

    def _balance_batch(self, batch, metrics, logging_prefix="global_seqlen", keep_minibatch=False):
        from verl.utils.seqlen_balancing import calculate_workload, log_seqlen_unbalance

        worker_group = self.actor_rollout_wg
        if "actor" not in worker_group._dispatch_info:
            worker_group._dispatch_info["actor"] = worker_group._query_dispatch_info("actor")
        dp_size = max(worker_group._dispatch_info["actor"]) + 1
        seqlens = torch.tensor([tag["seq_len"] for tag in batch.tags], dtype=torch.int64)
        workloads = calculate_workload(seqlens).tolist()
        order = balanced_group_order([group_key(k) for k in batch.keys], workloads, dp_size)
        batch.reorder(order)
        per_rank = len(order) // dp_size
        partitions = [list(range(r * per_rank, (r + 1) * per_rank)) for r in range(dp_size)]
        metrics.update(
            log_seqlen_unbalance(
                seqlen_list=seqlens[order].tolist(), partitions=partitions, prefix=logging_prefix
            )
        )
        return batch
