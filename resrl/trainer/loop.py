"""The local RLVR trainer: one loop for every registered method.

Per step: sample ``n`` responses for each of ``prompts_per_step`` prompts, score them with the task's
verifier, shape rewards and compute sequence advantages with the method, recompute old (and reference)
log-probs, then run PPO epochs over mini-batches of prompt groups, one group per micro-batch (ResRL's
subspace is estimated inside a group), with AdamW, linear warm-up and grad-norm clipping.

Where groups come from is a source (``resrl.trainer.sources``): single-turn prompts, or multi-turn episodes of an
environment task whose ``action_mask`` keeps environment tokens out of every loss. Everything after collection is
one path: ``collect`` (the method's way) -> ``update`` (advantages, old/ref log-probs, PPO epochs, record).
"""

from __future__ import annotations

import copy
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

import resrl.methods as methods
from resrl.algorithms.core import masked_mean
from resrl.diagnostics.step import DiagnosticsConfig
from resrl.methods.base import PolicyInputs
from resrl.models import load_policy
from resrl.records import new_temp_dir, publish_tree
from resrl.rollout import make_sampler
from resrl.rollout.batch import collate
from resrl.trainer.checkpoint import load_latest_checkpoint, remove_partial_writes, save_checkpoint
from resrl.trainer.config import TrainerConfig, micro_batch_scales, warmup_factor
from resrl.trainer.metrics_log import append_jsonl, atomic_write_text, truncate_after_step
from resrl.trainer.policy_forward import policy_forward
from resrl.trainer.run_record import mark_complete
from resrl.trainer.sources import Group, episode_metrics, make_source


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def check_local_method(method: methods.Method) -> None:
    """The local trainer has no value model: a method that needs one (PPO) is refused in one line."""
    if method.needs_critic:
        raise ValueError(
            f"method={method.name} needs a value model (critic), which the local trainer does not have; train it "
            "through the veRL backend: python -m resrl.backends.verl.launch method=... (docs/cluster.md)"
        )


class Trainer:
    """Build with a method, a model spec (name or mapping), a task and a :class:`TrainerConfig`."""

    def __init__(
        self,
        method: methods.Method,
        model_spec: Any,
        task: Any,
        cfg: TrainerConfig,
        run_dir: Path,
        run_config: dict | None = None,
        diagnostics: DiagnosticsConfig | None = None,
    ):
        check_local_method(method)
        self.method, self.task, self.cfg, self.run_dir = method, task, cfg, Path(run_dir)
        self.diag_cfg = diagnostics or DiagnosticsConfig()
        self.run_config = run_config or {}
        _seed_everything(cfg.seed)
        self.model, self.tokenizer = load_policy(model_spec, device=cfg.device)
        if cfg.gradient_checkpointing:
            self.model.gradient_checkpointing_enable()
        self.ref_model = None
        if method.needs_reference:
            self.ref_model = copy.deepcopy(self.model).eval().requires_grad_(False)
        # extra trainable modules the method declares (FlowRL's log Z head), and how they join the optimiser
        self.modules = torch.nn.ModuleDict(method.build_modules(self.model.config.hidden_size)).to(cfg.device)
        param_groups: list[dict] = [{"params": [p for p in self.model.parameters() if p.requires_grad]}]
        for group in method.module_param_groups(dict(self.modules)):
            if set(group) == {"params"}:
                param_groups[0]["params"] += list(
                    group["params"]
                )  # same lr, weight decay, schedule as the policy
            else:
                param_groups.append(group)
        self.optimizer = torch.optim.AdamW(
            param_groups, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: warmup_factor(s, cfg.warmup_steps, cfg.warmup_from_zero)
        )
        self.sampler = make_sampler(
            cfg.rollout_engine, self.model, self.tokenizer, batch_size=cfg.rollout_batch_size
        )
        self.source = make_source(task, self.tokenizer, self.sampler, cfg)  # single-turn prompts or episodes
        self.step = 0
        self.ckpt_root = self.run_dir / "checkpoints"
        self.metrics_path = self.run_dir / "metrics.jsonl"
        self.eval_path = self.run_dir / "eval.jsonl"
        self.last_saved = -1
        self.trackers = None  # opened by train()
        if cfg.resume:
            self._resume()

    # ----------------------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            **self.source.state_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "modules": self.modules.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "python": random.getstate(),
                "numpy": np.random.get_state(),
            },
            "run_config": self.run_config,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        else:  # an older checkpoint (the optimizer state is kept in the newest only): moments restart
            print(
                f"[resume] step {state['step']} has no optimizer state (kept only in the newest checkpoint): the "
                "optimizer's moments restart from zero; weights, step, schedule and RNG are restored",
                file=sys.stderr,
            )
        self.scheduler.load_state_dict(state["scheduler"])
        if len(self.modules):
            self.modules.load_state_dict(state["modules"])
        torch.set_rng_state(state["rng"]["torch"])
        random.setstate(state["rng"]["python"])
        np.random.set_state(state["rng"]["numpy"])
        self.step = int(state["step"])
        self.source.load_state_dict(state)

    def _resume(self) -> None:
        remove_partial_writes(self.ckpt_root)
        remove_partial_writes(self.run_dir, prefixes=(".tmp_final_",))
        found = load_latest_checkpoint(self.ckpt_root)
        if found is not None:
            path, state = found
            self.load_state_dict(state)
            self.last_saved = self.step
            print(f"[resume] {path} (step {self.step}, next problem {self.cursor})", file=sys.stderr)
        # Records written after the state we resume from (a kill between a log line and its checkpoint, or before
        # the first checkpoint) are dropped, so the rerun neither duplicates nor skips a step. The final
        # evaluation comes after the last checkpoint: a run resumed at the last step redoes it.
        truncate_after_step(self.metrics_path, self.step)
        truncate_after_step(self.eval_path, self.step if self.step < self.cfg.steps else self.step - 1)

    def save(self) -> Path:
        path = save_checkpoint(
            self.ckpt_root,
            self.step,
            self.state_dict(),
            keep=self.cfg.keep_checkpoints,
            full=self.cfg.full_fallback_checkpoints,
        )
        self.last_saved = self.step
        return path

    # ------------------------------------------------------------------------------------- rollouts
    # -------------------------------------------------------------------------------------- sampling
    @property
    def cursor(self) -> int:
        return self.source.cursor

    @property
    def skipped_long_prompts(self) -> int:
        return getattr(self.source, "skipped_long_prompts", 0)

    @property
    def truncated_long_prompts(self) -> int:
        return getattr(self.source, "truncated_long_prompts", 0)

    def collect(self) -> tuple[list[Group], dict[str, float]]:
        """One step's groups, as the method collects them (plain sampling; DAPO refills with informative groups).
        Every sampling round gets its own seed."""
        base_seed = self.cfg.seed * 1_000_003 + self.step * 101
        rounds = iter(range(10**9))
        self.model.eval()
        return self.method.collect(
            lambda k: self.source.sample_groups(k, base_seed + next(rounds)),
            lambda g: g.scores,
            self.cfg.prompts_per_step,
        )

    # --------------------------------------------------------------------------------------- update
    def _group_tensors(
        self, group: Group, rewards: torch.Tensor, advantages: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """One group's training tensors, every one of them on ``trainer.device`` (rewards, advantages: [n])."""
        device = torch.device(self.cfg.device)
        batch = collate(group.rollouts, self.tokenizer.pad_token_id, device=device)
        batch["prompt_len"] = batch["input_ids"].shape[1] - batch["response_mask"].shape[1]
        batch["scores"] = torch.tensor(group.scores, dtype=torch.float32, device=device)
        batch["rewards"], batch["advantages"] = rewards.to(device), advantages.to(device)
        batch["group_ids"] = torch.zeros(len(group.rollouts), dtype=torch.long, device=device)
        width = batch["response_mask"].shape[1]
        features = self.method.token_features(
            self.tokenizer, [list(r.response_ids) for r in group.rollouts], self.step, width
        )
        batch["extras"] = {k: v.to(device) for k, v in (features or {}).items()}
        return batch

    @torch.no_grad()
    def _fill_old_and_ref(self, batch: dict[str, Any]) -> dict[str, float]:
        mask = batch["response_mask"].bool()
        out = policy_forward(
            self.model,
            batch["input_ids"],
            batch["attention_mask"],
            batch["prompt_len"],
            self.cfg.temperature,
            with_entropy=True,
        )
        stats = {
            "entropy": float(masked_mean(out.entropy, mask)),
            "sampler_logprob_gap": float(masked_mean((out.log_probs - batch["old_logprobs"]).abs(), mask)),
        }
        if self.cfg.recompute_old_logprobs:
            batch["old_logprobs"] = out.log_probs
        if self.ref_model is not None:
            ref = policy_forward(
                self.ref_model,
                batch["input_ids"],
                batch["attention_mask"],
                batch["prompt_len"],
                self.cfg.temperature,
            )
            batch["ref_logprobs"] = ref.log_probs
            stats["kl_to_ref"] = float(masked_mean(out.log_probs - ref.log_probs, mask))
        return stats

    def _micro_batch_loss(
        self, batch: dict[str, Any], sample_seed: int | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        out = policy_forward(
            self.model,
            batch["input_ids"],
            batch["attention_mask"],
            batch["prompt_len"],
            self.cfg.temperature,
            hidden_layer=self.method.hidden_layer,
            with_prompt_repr=self.method.prompt_repr is not None,
            with_entropy=self.method.needs_entropy,
            prompt_repr_exclude_last=self.method.prompt_repr == "exclude_last",
        )
        module_fields = self.method.module_inputs(dict(self.modules), out.prompt_repr)
        # the text features of the responses (token_features) and the modules' own extras, together
        module_fields["extras"] = {**(batch.get("extras") or {}), **module_fields.get("extras", {})}
        inputs = PolicyInputs(
            log_probs=out.log_probs,
            old_log_probs=batch["old_logprobs"],
            response_mask=batch["response_mask"].bool(),
            rewards=batch["rewards"],
            scores=batch["scores"],
            group_ids=batch["group_ids"],
            advantages=batch["advantages"],
            ref_log_probs=batch.get("ref_logprobs"),
            entropy=out.entropy,
            hidden=out.hidden,
            positive=batch.get("positive"),
            subgroup_ids=batch.get("subgroup_ids"),
            sample_seed=sample_seed,
            **module_fields,
        )
        return self.method.loss(inputs)

    def _params(self) -> list[torch.nn.Parameter]:
        ps = [p for p in self.model.parameters() if p.requires_grad]
        return ps + list(self.modules.parameters())

    def train_step(self) -> dict[str, float]:
        """One step: collect groups, then :meth:`update` on them."""
        t0 = time.perf_counter()
        groups, record = self.collect()
        return self.update(groups, record, t0)

    def update(
        self, groups: list[Group], record: dict[str, float], t0: float | None = None
    ) -> dict[str, float]:
        """The step after collection: advantages -> old/ref log-probs -> PPO epochs -> the step's record."""
        t_rollout = time.perf_counter()
        t0 = t_rollout if t0 is None else t0
        batches, host = self._batches(groups)
        fwd_stats = [self._fill_old_and_ref(b) for b in batches]
        snap = self._diagnostics_before(batches, groups)
        t_old = time.perf_counter()
        step_metrics, grad_norms = self._ppo_epochs(batches)
        t_update = time.perf_counter()
        if snap is not None:
            from resrl.diagnostics.step import after_update

            record.update(after_update(self.model, snap))
            record["time/diagnostics_s"] = time.perf_counter() - t_update
        self.step += 1
        record.update({k: float(np.mean(v)) for k, v in step_metrics.items()})
        for key in fwd_stats[0] if fwd_stats else []:
            record[key] = float(np.mean([s[key] for s in fwd_stats]))
        record.update(self._step_record(groups, host, grad_norms))
        record.update(
            {
                "time/rollout_s": t_rollout - t0,
                "time/old_logprob_s": t_old - t_rollout,
                "time/update_s": t_update - t_old,
                "time/step_s": t_update - t0,
            }
        )
        return record

    def _batches(self, groups: list[Group]) -> tuple[list[dict[str, Any]], dict[str, torch.Tensor]]:
        """Shaped rewards and sequence advantages (on the host: a few numbers per response), then one tensor batch
        per prompt group on ``trainer.device``; also the host tensors for the record."""
        cpu = torch.device("cpu")
        flat = [r for g in groups for r in g.rollouts]
        scores = torch.tensor([s for g in groups for s in g.scores], dtype=torch.float32, device=cpu)
        positive = torch.tensor([p for g in groups for p in g.positive_flags()], dtype=torch.bool, device=cpu)
        lengths = torch.tensor([r.num_generated_tokens for r in flat], dtype=torch.long, device=cpu)
        sizes = torch.tensor([len(g.rollouts) for g in groups], dtype=torch.long, device=cpu)
        group_ids = torch.arange(len(groups), device=cpu).repeat_interleave(sizes)
        rewards = self.method.shape_rewards(scores, lengths)
        advantages = self.method.sequence_advantages(rewards, positive, group_ids)
        seq_lengths = torch.tensor([len(r.prompt_ids) + len(r.response_ids) for r in flat], dtype=torch.long)
        subgroups = self.method.subgroups(group_ids, seq_lengths)  # e.g. ResRL's release grouping, else None
        batches, offset = [], 0
        for g in groups:
            part = slice(offset, offset + len(g.rollouts))
            batch = self._group_tensors(g, rewards[part], advantages[part])
            batch["positive"] = positive[part].to(batch["scores"].device)
            if subgroups is not None:
                batch["subgroup_ids"] = subgroups[part].to(batch["scores"].device)
            batches.append(batch)
            offset = part.stop
        return batches, {"rewards": rewards, "positive": positive, "lengths": lengths}

    def _diagnostics_before(self, batches: list[dict[str, Any]], groups: list[Group]):
        """Mechanism diagnostics at the pre-update policy when due (``resrl/diagnostics``), else None."""
        if not self.diag_cfg.due(self.step + 1):
            return None
        from resrl.diagnostics.step import before_update

        return before_update(
            self.model,
            batches,
            [[r.text for r in g.rollouts] for g in groups],
            self.cfg.temperature,
            self.diag_cfg,
            method=self.method,
        )

    def _ppo_epochs(self, batches: list[dict[str, Any]]) -> tuple[dict[str, list[float]], list[float]]:
        """PPO epochs over mini-batches of prompt groups (one group per micro-batch), AdamW with grad-norm
        clipping, then one scheduler step. Returns the loss metrics and the grad norms."""
        cfg = self.cfg
        step_metrics: dict[str, list[float]] = {}
        grad_norms = []
        self.model.train()
        per_mb = max(1, min(cfg.mini_batch_prompts, len(batches)))
        for epoch in range(cfg.ppo_epochs):
            for start in range(0, len(batches), per_mb):
                mini = batches[start : start + per_mb]
                self.optimizer.zero_grad(set_to_none=True)
                scales = micro_batch_scales(
                    [b["response_mask"] for b in mini], cfg.loss_aggregation, self.method.aggregation_mode
                )
                for j, (b, scale) in enumerate(zip(mini, scales, strict=True)):
                    seed = cfg.seed * 1_000_003 + self.step * 10_007 + epoch * 1_009 + start + j
                    loss, m = self._micro_batch_loss(b, seed)
                    (loss * scale).backward()
                    for key, v in m.items():
                        step_metrics.setdefault(key, []).append(v)
                grad_norms.append(float(torch.nn.utils.clip_grad_norm_(self._params(), cfg.grad_clip)))
                self.optimizer.step()
        self.model.eval()
        self.scheduler.step()
        return step_metrics, grad_norms

    def _step_record(
        self, groups: list[Group], host: dict[str, torch.Tensor], grad_norms: list[float]
    ) -> dict:
        flat = [r for g in groups for r in g.rollouts]
        rewards, positive, lengths = host["rewards"], host["positive"], host["lengths"]
        mean = lambda t: float(t.float().mean()) if len(t) else 0.0  # noqa: E731
        return {
            "step": self.step,
            "reward_mean": mean(rewards),
            "pass_rate": mean(positive),
            "response_length": mean(lengths),
            "truncated_frac": float(np.mean([r.finish_reason == "length" for r in flat])) if flat else 0.0,
            "grad_norm": float(np.mean(grad_norms)) if grad_norms else 0.0,
            "lr": float(self.scheduler.get_last_lr()[0]),
            "groups": float(len(groups)),
            "prompts_skipped_too_long": float(self.skipped_long_prompts),
            "prompts_truncated_left": float(self.truncated_long_prompts),
            **episode_metrics([t for g in groups for t in g.trajectories]),
        }

    # ------------------------------------------------------------------------------------ evaluation
    def evaluate(self) -> dict[str, float]:
        """Held-out evaluation by the source; its samples go to ``eval_samples/step_<N>.jsonl``."""
        self.model.eval()
        rec, lines = self.source.evaluate(self.step)
        atomic_write_text(self.run_dir / "eval_samples" / f"step_{self.step:06d}.jsonl", "".join(lines))
        append_jsonl(self.eval_path, rec)
        if self.trackers is not None:
            self.trackers.log(rec, self.step, prefix="val/")
        return rec

    def _open_trackers(self) -> None:
        """The experiment trackers of ``trainer.logger`` (resrl/trainer/trackers.py), from the step resumed at."""
        from resrl.trainer.trackers import Trackers

        name = str(self.run_config.get("run_name") or self.run_dir.name)
        self.trackers = Trackers(
            self.cfg.logger, self.run_dir, self.cfg.project_name, name, self.run_config, start_step=self.step
        )

    # ------------------------------------------------------------------------------------------ run
    def export(self) -> Path:
        """Save the trained policy as a ``save_pretrained`` folder (model, tokenizer and its model card
        ``README.md``, :mod:`resrl.trainer.model_card`) for the evaluators."""
        import os
        import shutil

        final = self.run_dir / "final_model"
        tmp = new_temp_dir(self.run_dir, ".tmp_final_")
        self.model.save_pretrained(tmp)
        self.tokenizer.save_pretrained(tmp)
        from resrl.trainer.model_card import read_samples, write_card

        samples = read_samples(self.run_dir / "eval_samples" / f"step_{self.step:06d}.jsonl")
        write_card(tmp, self.run_config, steps=self.step, samples=samples, backend="local")  # README.md
        publish_tree(tmp)  # collaborators can read it (library writers may leave private modes)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        return final

    def train(self) -> dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._open_trackers()
        try:
            return self._train()
        finally:
            self.trackers.close()

    def _train(self) -> dict[str, Any]:
        cfg = self.cfg
        if self.step == 0 and not self.eval_path.exists():
            self.evaluate()
        bar = tqdm(total=cfg.steps, initial=self.step, desc=f"train {self.method.name}", dynamic_ncols=True)
        try:
            while self.step < cfg.steps:
                rec = self.train_step()
                append_jsonl(self.metrics_path, rec)
                self.trackers.log(rec, self.step)
                bar.update(1)
                bar.set_postfix(reward=f"{rec['reward_mean']:.3f}", step_s=f"{rec['time/step_s']:.1f}")
                if cfg.eval_every and self.step % cfg.eval_every == 0 and self.step < cfg.steps:
                    self.evaluate()
                if self.step % cfg.save_every == 0 or self.step == cfg.steps:
                    self.save()
        except KeyboardInterrupt:
            if self.step > self.last_saved:
                print(f"\n[interrupt] saving step {self.step} before exiting", file=sys.stderr)
                self.save()
            raise
        finally:
            bar.close()
        final_eval = self.evaluate()
        summary = {"step": self.step, "final_eval": final_eval, "model_dir": str(self.export())}
        mark_complete(self.run_dir, summary)
        if cfg.clean_checkpoints_when_done:
            import shutil

            shutil.rmtree(self.ckpt_root, ignore_errors=True)
        return summary
