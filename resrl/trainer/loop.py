"""The local RLVR trainer: one loop for every registered method.

Per step: sample ``n`` responses for each of ``prompts_per_step`` prompts, score them with the task's
verifier, shape rewards and compute sequence advantages with the method, recompute old (and reference)
log-probs, then run PPO epochs over mini-batches of prompt groups, one group per micro-batch (ResRL's
subspace is estimated inside a group), with AdamW, linear warm-up and grad-norm clipping.

Multi-turn tasks (``task.multi_turn``, e.g. ``resrl.tasks.env_task.EnvTask``): a group is ``n`` episodes of
one environment, played by ``resrl.rollout.multi_turn.run_episodes``; each episode becomes one rollout
(``Trajectory.to_rollout``) whose ``action_mask`` keeps environment tokens out of every loss, and its score
is the episode's ``score()["reward"]``. Everything after sampling (advantages, PPO epochs, checkpoints,
metrics) is shared; ``episode/*`` metrics (turns, invalid actions, success, finish reasons) are added.
"""

from __future__ import annotations

import copy
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

import resrl.methods as methods
from resrl.algorithms.core import masked_mean
from resrl.diagnostics.step import DiagnosticsConfig
from resrl.methods.base import PolicyInputs
from resrl.models import format_chat, load_policy
from resrl.records import new_temp_dir, publish_tree
from resrl.rollout import make_sampler
from resrl.rollout.base import Rollout, SamplingParams
from resrl.rollout.batch import collate
from resrl.rollout.multi_turn import Trajectory, run_episodes
from resrl.trainer.checkpoint import load_latest_checkpoint, remove_partial_writes, save_checkpoint
from resrl.trainer.config import TrainerConfig, micro_batch_scales, warmup_factor
from resrl.trainer.metrics_log import append_jsonl, atomic_write_text, truncate_after_step
from resrl.trainer.policy_forward import policy_forward
from resrl.trainer.run_record import mark_complete


@dataclass
class Group:
    """The ``n`` responses to one prompt and their verifier scores (for a multi-turn task: the ``n``
    episodes of one environment, their rewards, and the ``trajectories`` they came from)."""

    problem: Any
    rollouts: list[Rollout]
    scores: list[float]
    trajectories: list[Trajectory] = field(default_factory=list)
    positive: list[bool] | None = None  # an environment's success flags; None: score > 0

    def positive_flags(self) -> list[bool]:
        """Which responses count as positive (ResRL's subspace, W-REINFORCE's +lambda): the environment's success
        flag for episodes (a failed WebShop episode may still have a partial reward), else verifier score > 0."""
        return list(self.positive) if self.positive is not None else [s > 0 for s in self.scores]


def episode_metrics(trajectories: list[Trajectory]) -> dict[str, float]:
    """Per-step means over episodes: ``episode/turns``, ``episode/invalid_actions`` (per episode),
    ``episode/invalid_rate`` (invalid replies / replies), ``episode/success``, ``episode/env_tokens``
    (environment tokens per episode) and ``episode/finish_<reason>`` fractions."""
    if not trajectories:
        return {}
    turns = sum(t.turns for t in trajectories)
    rec = {
        "episode/turns": float(np.mean([t.turns for t in trajectories])),
        "episode/invalid_actions": float(np.mean([t.invalid_actions for t in trajectories])),
        "episode/invalid_rate": float(sum(t.invalid_actions for t in trajectories) / max(turns, 1)),
        "episode/success": float(np.mean([float(t.score.get("success", 0.0)) > 0 for t in trajectories])),
        "episode/env_tokens": float(np.mean([len(t.action_mask) - sum(t.action_mask) for t in trajectories])),
    }
    for reason in ("done", "max_turns", "max_tokens"):
        rec[f"episode/finish_{reason}"] = float(np.mean([t.finish_reason == reason for t in trajectories]))
    return rec


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


class Trainer:
    """Build with a method, a model spec (name or mapping), a task and a :class:`TrainerConfig`."""

    def __init__(self, method: methods.Method, model_spec: Any, task: Any, cfg: TrainerConfig, run_dir: Path,
                 run_config: dict | None = None, diagnostics: DiagnosticsConfig | None = None):
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
                param_groups[0]["params"] += list(group["params"])  # same lr, weight decay, schedule as the policy
            else:
                param_groups.append(group)
        self.optimizer = torch.optim.AdamW(param_groups, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: warmup_factor(s, cfg.warmup_steps, cfg.warmup_from_zero)
        )
        self.sampler = make_sampler(cfg.rollout_engine, self.model, self.tokenizer, batch_size=cfg.rollout_batch_size)
        self.step = 0
        self.cursor = 0  # index of the next training problem
        self.skipped_long_prompts = 0
        self.truncated_long_prompts = 0
        self.ckpt_root = self.run_dir / "checkpoints"
        self.metrics_path = self.run_dir / "metrics.jsonl"
        self.eval_path = self.run_dir / "eval.jsonl"
        self.last_saved = -1
        self.multi_turn = bool(getattr(task, "multi_turn", False))
        if cfg.resume:
            self._resume()

    # ----------------------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "cursor": self.cursor,
            "skipped_long_prompts": self.skipped_long_prompts,
            "truncated_long_prompts": self.truncated_long_prompts,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "modules": self.modules.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()},
            "run_config": self.run_config,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        else:  # an older checkpoint (the optimizer state is kept in the newest only): moments restart
            print(f"[resume] step {state['step']} has no optimizer state (kept only in the newest checkpoint): the "
                  "optimizer's moments restart from zero; weights, step, schedule and RNG are restored",
                  file=sys.stderr)
        self.scheduler.load_state_dict(state["scheduler"])
        if len(self.modules):
            self.modules.load_state_dict(state["modules"])
        torch.set_rng_state(state["rng"]["torch"])
        random.setstate(state["rng"]["python"])
        np.random.set_state(state["rng"]["numpy"])
        self.step, self.cursor = int(state["step"]), int(state["cursor"])
        self.skipped_long_prompts = int(state.get("skipped_long_prompts", 0))
        self.truncated_long_prompts = int(state.get("truncated_long_prompts", 0))

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
        path = save_checkpoint(self.ckpt_root, self.step, self.state_dict(), keep=self.cfg.keep_checkpoints,
                               full=self.cfg.full_fallback_checkpoints)
        self.last_saved = self.step
        return path

    # ------------------------------------------------------------------------------------- rollouts
    def _prompt_text(self, problem: Any) -> str:
        return format_chat(self.tokenizer, problem.prompt_messages, enable_thinking=getattr(self.task, "enable_thinking", None))

    def _prompt_ids(self, problem: Any) -> list[int]:
        """The rendered prompt's token ids, as the sampler encodes them (no added special tokens)."""
        return list(self.tokenizer(self._prompt_text(problem), add_special_tokens=False)["input_ids"])

    def _next_problems(self, k: int) -> list[Any]:
        """The next ``k`` training problems; the cursor wraps around the split for further epochs. With
        ``long_prompts=skip`` a prompt over ``max_prompt_tokens`` is skipped and counted; with ``truncate_left`` (the
        release) every problem is taken and :meth:`_sample_groups` cuts long prompts from the left. Multi-turn
        problems have no prompt before their environment is reset: they are taken as they come (the episode's
        token budget is the task's ``max_total_tokens``)."""
        size = self.task.size("train")
        if self.multi_turn or self.cfg.long_prompts == "truncate_left":
            problems = [self.task.get("train", (self.cursor + j) % size) for j in range(k)]
            self.cursor += k
            return problems
        give_up = min(size, 1000)  # consecutive over-long prompts after which the limit is surely too small
        problems: list[Any] = []
        skipped_in_a_row = 0
        while len(problems) < k:
            problem = self.task.get("train", self.cursor % size)
            self.cursor += 1
            n_tokens = len(self.tokenizer(self._prompt_text(problem), add_special_tokens=False)["input_ids"])
            if n_tokens > self.cfg.max_prompt_tokens:
                self.skipped_long_prompts += 1
                skipped_in_a_row += 1
                if skipped_in_a_row >= give_up:
                    raise ValueError(
                        f"{skipped_in_a_row} training prompts in a row of task {getattr(self.task, 'name', '?')!r} "
                        f"exceed trainer.max_prompt_tokens={self.cfg.max_prompt_tokens} (the last has {n_tokens} "
                        "tokens); raise trainer.max_prompt_tokens")
                continue
            skipped_in_a_row = 0
            problems.append(problem)
        return problems

    def _play(self, split: str, problems: list[Any], n: int, params: SamplingParams) -> list[Trajectory]:
        """``n`` episodes of each problem's environment (problem-major), environments closed afterwards."""
        envs = self.task.make_envs(split, problems, n)
        try:
            return run_episodes(self.sampler, self.tokenizer, envs, params, max_turns=self.task.max_turns,
                                max_total_tokens=self.task.max_total_tokens,
                                enable_thinking=getattr(self.task, "enable_thinking", None))
        finally:
            for env in envs:
                env.close()

    def _sample_episode_groups(self, problems: list[Any], seed: int) -> list[Group]:
        n = self.cfg.n
        params = SamplingParams(n=1, temperature=self.cfg.temperature, top_p=self.cfg.top_p,
                                max_new_tokens=self.cfg.max_new_tokens, seed=seed)
        self.model.eval()
        trajectories = self._play("train", problems, n, params)
        if all(t.turns == 0 for t in trajectories):
            shortest = min(len(t.prompt_ids) for t in trajectories)
            raise ValueError(
                f"no episode of task {getattr(self.task, 'name', '?')!r} could generate: the shortest opening prompt has "
                f"{shortest} tokens, task.max_total_tokens={self.task.max_total_tokens}; raise task.max_total_tokens")
        groups = []
        for i, p in enumerate(problems):
            ts = trajectories[i * n : (i + 1) * n]
            groups.append(Group(p, [t.to_rollout(i, s) for s, t in enumerate(ts)], [t.reward for t in ts], ts,
                                positive=[float(t.score.get("success", 0.0)) > 0 for t in ts]))
        return groups

    def _sample_groups(self, k: int, seed: int) -> list[Group]:
        problems = self._next_problems(k)
        if self.multi_turn:
            return self._sample_episode_groups(problems, seed)
        params = SamplingParams(n=self.cfg.n, temperature=self.cfg.temperature, top_p=self.cfg.top_p,
                                max_new_tokens=self.cfg.max_new_tokens, seed=seed)
        self.model.eval()
        limit = self.cfg.max_prompt_tokens
        prompts = [self._prompt_ids(p) for p in problems]
        self.truncated_long_prompts += sum(len(ids) > limit for ids in prompts)
        rollouts = self.sampler.generate_from_ids([ids[-limit:] for ids in prompts], params)
        groups = []
        for i, p in enumerate(problems):
            rs = rollouts[i * self.cfg.n : (i + 1) * self.cfg.n]
            groups.append(Group(p, rs, [float(self.task.reward(r.text, p.answer)) for r in rs]))
        return groups

    def collect(self) -> tuple[list[Group], dict[str, float]]:
        """One step's groups, as the method collects them (plain sampling; DAPO refills with informative groups).
        Every sampling round gets its own seed."""
        base_seed = self.cfg.seed * 1_000_003 + self.step * 101
        rounds = iter(range(10**9))
        return self.method.collect(lambda k: self._sample_groups(k, base_seed + next(rounds)),
                                   lambda g: g.scores, self.cfg.prompts_per_step)

    # --------------------------------------------------------------------------------------- update
    def _group_tensors(self, group: Group, rewards: torch.Tensor, advantages: torch.Tensor) -> dict[str, torch.Tensor]:
        """One group's training tensors, every one of them on ``trainer.device`` (rewards, advantages: [n])."""
        device = torch.device(self.cfg.device)
        batch = collate(group.rollouts, self.tokenizer.pad_token_id, device=device)
        batch["prompt_len"] = batch["input_ids"].shape[1] - batch["response_mask"].shape[1]
        batch["scores"] = torch.tensor(group.scores, dtype=torch.float32, device=device)
        batch["rewards"], batch["advantages"] = rewards.to(device), advantages.to(device)
        batch["group_ids"] = torch.zeros(len(group.rollouts), dtype=torch.long, device=device)
        return batch

    @torch.no_grad()
    def _fill_old_and_ref(self, batch: dict[str, Any]) -> dict[str, float]:
        mask = batch["response_mask"].bool()
        out = policy_forward(self.model, batch["input_ids"], batch["attention_mask"], batch["prompt_len"],
                             self.cfg.temperature, with_entropy=True)
        stats = {"entropy": float(masked_mean(out.entropy, mask)),
                 "sampler_logprob_gap": float(masked_mean((out.log_probs - batch["old_logprobs"]).abs(), mask))}
        if self.cfg.recompute_old_logprobs:
            batch["old_logprobs"] = out.log_probs
        if self.ref_model is not None:
            ref = policy_forward(self.ref_model, batch["input_ids"], batch["attention_mask"], batch["prompt_len"],
                                 self.cfg.temperature)
            batch["ref_logprobs"] = ref.log_probs
            stats["kl_to_ref"] = float(masked_mean(out.log_probs - ref.log_probs, mask))
        return stats

    def _micro_batch_loss(self, batch: dict[str, Any], sample_seed: int | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        out = policy_forward(
            self.model, batch["input_ids"], batch["attention_mask"], batch["prompt_len"], self.cfg.temperature,
            hidden_layer=self.method.hidden_layer, with_prompt_repr=self.method.prompt_repr is not None,
            with_entropy=self.method.cfg.entropy_coef != 0.0,
            prompt_repr_exclude_last=self.method.prompt_repr == "exclude_last",
        )
        inputs = PolicyInputs(
            log_probs=out.log_probs, old_log_probs=batch["old_logprobs"], response_mask=batch["response_mask"].bool(),
            rewards=batch["rewards"], scores=batch["scores"], group_ids=batch["group_ids"],
            advantages=batch["advantages"], ref_log_probs=batch.get("ref_logprobs"), entropy=out.entropy,
            hidden=out.hidden, positive=batch.get("positive"), subgroup_ids=batch.get("subgroup_ids"),
            sample_seed=sample_seed, **self.method.module_inputs(dict(self.modules), out.prompt_repr),
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

    def update(self, groups: list[Group], record: dict[str, float], t0: float | None = None) -> dict[str, float]:
        """Rewards, advantages, old/ref log-probs and the PPO epochs on collected ``groups``; returns the step's
        record. Sequence-level rewards and advantages are computed on the host (a few numbers per response)
        and moved with each group's tensors to ``trainer.device``."""
        cfg = self.cfg
        t_rollout = time.perf_counter()
        t0 = t_rollout if t0 is None else t0
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
            k = len(g.rollouts)
            part = slice(offset, offset + k)
            batch = self._group_tensors(g, rewards[part], advantages[part])
            batch["positive"] = positive[part].to(batch["scores"].device)
            if subgroups is not None:
                batch["subgroup_ids"] = subgroups[part].to(batch["scores"].device)
            batches.append(batch)
            offset += k
        fwd_stats = [self._fill_old_and_ref(b) for b in batches]
        snap = None
        if self.diag_cfg.due(self.step + 1):  # mechanism diagnostics at the pre-update policy (resrl/diagnostics)
            from resrl.diagnostics.step import before_update

            snap = before_update(self.model, batches, [[r.text for r in g.rollouts] for g in groups],
                                 cfg.temperature, self.diag_cfg, method=self.method)
        t_old = time.perf_counter()
        step_metrics: dict[str, list[float]] = {}
        grad_norms = []
        self.model.train()
        per_mb = max(1, min(cfg.mini_batch_prompts, len(batches)))
        for epoch in range(cfg.ppo_epochs):
            for start in range(0, len(batches), per_mb):
                mini = batches[start : start + per_mb]
                self.optimizer.zero_grad(set_to_none=True)
                scales = micro_batch_scales([b["response_mask"] for b in mini], cfg.loss_aggregation,
                                            self.method.aggregation_mode)
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
        t_update = time.perf_counter()
        if snap is not None:
            from resrl.diagnostics.step import after_update

            record.update(after_update(self.model, snap))
            record["time/diagnostics_s"] = time.perf_counter() - t_update
        self.step += 1
        record.update({k: float(np.mean(v)) for k, v in step_metrics.items()})
        for key in fwd_stats[0] if fwd_stats else []:
            record[key] = float(np.mean([s[key] for s in fwd_stats]))
        record.update({
            "step": self.step,
            "reward_mean": float(rewards.mean()) if len(rewards) else 0.0,
            "pass_rate": float(positive.float().mean()) if len(positive) else 0.0,
            "response_length": float(lengths.float().mean()) if len(lengths) else 0.0,
            "truncated_frac": float(np.mean([r.finish_reason == "length" for r in flat])) if flat else 0.0,
            "grad_norm": float(np.mean(grad_norms)) if grad_norms else 0.0,
            "lr": float(self.scheduler.get_last_lr()[0]),
            "groups": float(len(groups)),
            "prompts_skipped_too_long": float(self.skipped_long_prompts),
            "prompts_truncated_left": float(self.truncated_long_prompts),
            "time/rollout_s": t_rollout - t0,
            "time/old_logprob_s": t_old - t_rollout,
            "time/update_s": t_update - t_old,
            "time/step_s": t_update - t0,
        })
        record.update(episode_metrics([t for g in groups for t in g.trajectories]))
        return record

    # ------------------------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Held-out accuracy: ``eval_n`` samples for each of ``eval_problems`` test problems (Avg@n, Pass@n)."""
        if self.multi_turn:
            return self._evaluate_episodes()
        cfg = self.cfg
        problems = [self.task.get("test", i) for i in range(min(cfg.eval_problems, self.task.size("test")))]
        params = SamplingParams(n=cfg.eval_n, temperature=cfg.eval_temperature, top_p=cfg.eval_top_p,
                                max_new_tokens=cfg.eval_max_new_tokens or cfg.max_new_tokens, seed=cfg.seed + 7)
        self.model.eval()
        t0 = time.perf_counter()
        rollouts = self.sampler.generate([self._prompt_text(p) for p in problems], params)
        correct = np.array([float(self.task.reward(r.text, problems[r.prompt_index].answer)) > 0 for r in rollouts])
        lines = [json.dumps({"problem_id": problems[r.prompt_index].id, "sample": r.sample_index,
                             "answer": problems[r.prompt_index].answer, "text": r.text, "tokens": r.num_tokens,
                             "correct": bool(ok)}) + "\n" for r, ok in zip(rollouts, correct, strict=True)]
        atomic_write_text(self.run_dir / "eval_samples" / f"step_{self.step:06d}.jsonl", "".join(lines))
        correct = correct.reshape(len(problems), cfg.eval_n)
        rec = {"step": self.step, "avg_at_n": float(correct.mean()), "pass_at_n": float(correct.any(axis=1).mean()),
               "n": cfg.eval_n, "problems": len(problems), "time_s": time.perf_counter() - t0}
        append_jsonl(self.eval_path, rec)
        return rec

    def _evaluate_episodes(self) -> dict[str, float]:
        """Multi-turn held-out evaluation: ``eval_n`` episodes of each of ``eval_problems`` test episodes;
        ``avg_at_n``/``pass_at_n`` count successes (``score()["success"] > 0``), ``reward_mean`` the rewards."""
        cfg = self.cfg
        problems = [self.task.get("test", i) for i in range(min(cfg.eval_problems, self.task.size("test")))]
        params = SamplingParams(n=1, temperature=cfg.eval_temperature, top_p=cfg.eval_top_p,
                                max_new_tokens=cfg.eval_max_new_tokens or cfg.max_new_tokens, seed=cfg.seed + 7)
        self.model.eval()
        t0 = time.perf_counter()
        trajectories = self._play("test", problems, cfg.eval_n, params)
        lines = []
        for j, t in enumerate(trajectories):
            p = problems[j // cfg.eval_n]
            lines.append(json.dumps({
                "problem_id": p.id, "sample": j % cfg.eval_n, "episode_id": t.episode_id, "reward": t.reward,
                "success": float(t.score.get("success", 0.0)) > 0, "score": t.score, "turns": t.turns,
                "invalid_actions": t.invalid_actions, "finish_reason": t.finish_reason,
                "generated_tokens": t.num_generated_tokens, "messages": t.messages}, default=str) + "\n")
        atomic_write_text(self.run_dir / "eval_samples" / f"step_{self.step:06d}.jsonl", "".join(lines))
        success = np.array([float(t.score.get("success", 0.0)) > 0 for t in trajectories]).reshape(len(problems), cfg.eval_n)
        rec = {"step": self.step, "avg_at_n": float(success.mean()), "pass_at_n": float(success.any(axis=1).mean()),
               "reward_mean": float(np.mean([t.reward for t in trajectories])),
               "turns_mean": float(np.mean([t.turns for t in trajectories])),
               "n": cfg.eval_n, "problems": len(problems), "time_s": time.perf_counter() - t0}
        append_jsonl(self.eval_path, rec)
        return rec

    # ------------------------------------------------------------------------------------------ run
    def export(self) -> Path:
        """Save the trained policy as a ``save_pretrained`` folder (model + tokenizer) for the evaluators."""
        import os
        import shutil

        final = self.run_dir / "final_model"
        tmp = new_temp_dir(self.run_dir, ".tmp_final_")
        self.model.save_pretrained(tmp)
        self.tokenizer.save_pretrained(tmp)
        publish_tree(tmp)  # collaborators can read it (library writers may leave private modes)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        return final

    def train(self) -> dict[str, Any]:
        cfg = self.cfg
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.step == 0 and not self.eval_path.exists():
            self.evaluate()
        bar = tqdm(total=cfg.steps, initial=self.step, desc=f"train {self.method.name}", dynamic_ncols=True)
        try:
            while self.step < cfg.steps:
                rec = self.train_step()
                append_jsonl(self.metrics_path, rec)
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
