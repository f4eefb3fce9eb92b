"""Where a training step's groups and the held-out evaluation come from: one small interface, two sources.

- :class:`PromptSource` (single-turn tasks): the next problems of the task's train split (the cursor wraps for
  further epochs), rendered with the chat template, tokenised as the sampler encodes them, long prompts truncated
  from the left (``trainer.long_prompts=truncate_left``, the release) or skipped and counted (``skip``); ``n``
  responses per prompt, scored by the task's verifier.
- :class:`EpisodeSource` (multi-turn tasks, ``task.multi_turn``): ``n`` episodes of each environment played by
  :func:`resrl.rollout.multi_turn.run_episodes`; each episode is one rollout whose ``action_mask`` keeps
  environment tokens out of the loss; positives are the environments' success flags.

Both offer ``sample_groups(k, seed)``, ``evaluate(step) -> (record, sample lines)`` and ``state_dict`` /
``load_state_dict`` (the cursor and the counters resume exactly).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from resrl.models import format_chat
from resrl.rollout.base import Rollout, SamplingParams
from resrl.rollout.multi_turn import Trajectory, run_episodes
from resrl.trainer.config import TrainerConfig


def has_test_split(task) -> bool:
    """Whether the task holds held-out problems (DeepCoder's and DAPO-Math's training sets have none)."""
    return "test" in getattr(task, "splits", ("train", "test"))


def no_held_out(step: int) -> dict[str, Any]:
    """The evaluation record of a task without a test split: says so instead of inventing a number."""
    return {"step": step, "note": "the task has no test split; held-out evaluation skipped"}


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


class PromptSource:
    """Single-turn prompts of ``task`` sampled with ``sampler`` (see the module docstring)."""

    multi_turn = False

    def __init__(self, task: Any, tokenizer: Any, sampler: Any, cfg: TrainerConfig) -> None:
        self.task, self.tokenizer, self.sampler, self.cfg = task, tokenizer, sampler, cfg
        self.cursor = 0  # index of the next training problem
        self.skipped_long_prompts = 0
        self.truncated_long_prompts = 0

    def state_dict(self) -> dict[str, int]:
        return {
            "cursor": self.cursor,
            "skipped_long_prompts": self.skipped_long_prompts,
            "truncated_long_prompts": self.truncated_long_prompts,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cursor = int(state.get("cursor", 0))
        self.skipped_long_prompts = int(state.get("skipped_long_prompts", 0))
        self.truncated_long_prompts = int(state.get("truncated_long_prompts", 0))

    def prompt_text(self, problem: Any) -> str:
        return format_chat(
            self.tokenizer,
            problem.prompt_messages,
            enable_thinking=getattr(self.task, "enable_thinking", None),
        )

    def prompt_ids(self, problem: Any) -> list[int]:
        """The rendered prompt's token ids, as the sampler encodes them (no added special tokens)."""
        return list(self.tokenizer(self.prompt_text(problem), add_special_tokens=False)["input_ids"])

    def next_problems(self, k: int) -> list[Any]:
        """The next ``k`` training problems (``long_prompts=skip``: over-long prompts skipped and counted)."""
        size = self.task.size("train")
        if self.cfg.long_prompts == "truncate_left":
            problems = [self.task.get("train", (self.cursor + j) % size) for j in range(k)]
            self.cursor += k
            return problems
        give_up = min(size, 1000)  # consecutive over-long prompts after which the limit is surely too small
        problems: list[Any] = []
        skipped_in_a_row = 0
        while len(problems) < k:
            problem = self.task.get("train", self.cursor % size)
            self.cursor += 1
            n_tokens = len(self.prompt_ids(problem))
            if n_tokens > self.cfg.max_prompt_tokens:
                self.skipped_long_prompts += 1
                skipped_in_a_row += 1
                if skipped_in_a_row >= give_up:
                    raise ValueError(
                        f"{skipped_in_a_row} training prompts in a row of task {getattr(self.task, 'name', '?')!r} "
                        f"exceed trainer.max_prompt_tokens={self.cfg.max_prompt_tokens} (the last has {n_tokens} "
                        "tokens); raise trainer.max_prompt_tokens"
                    )
                continue
            skipped_in_a_row = 0
            problems.append(problem)
        return problems

    def sample_groups(self, k: int, seed: int) -> list[Group]:
        """``k`` groups of ``n`` responses; prompts over ``max_prompt_tokens`` keep their last tokens."""
        cfg = self.cfg
        problems = self.next_problems(k)
        params = SamplingParams(
            n=cfg.n,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_new_tokens=cfg.max_new_tokens,
            seed=seed,
        )
        limit = cfg.max_prompt_tokens
        prompts = [self.prompt_ids(p) for p in problems]
        self.truncated_long_prompts += sum(len(ids) > limit for ids in prompts)
        rollouts = self.sampler.generate_from_ids([ids[-limit:] for ids in prompts], params)
        groups = []
        for i, p in enumerate(problems):
            rs = rollouts[i * cfg.n : (i + 1) * cfg.n]
            groups.append(Group(p, rs, [float(self.task.reward(r.text, p.answer)) for r in rs]))
        return groups

    @torch.no_grad()
    def evaluate(self, step: int) -> tuple[dict[str, float], list[str]]:
        """Held-out accuracy: ``eval_n`` samples for each of ``eval_problems`` test problems (Avg@n, Pass@n)."""
        cfg = self.cfg
        if not has_test_split(self.task):
            return no_held_out(step), []
        problems = [self.task.get("test", i) for i in range(min(cfg.eval_problems, self.task.size("test")))]
        params = SamplingParams(
            n=cfg.eval_n,
            temperature=cfg.eval_temperature,
            top_p=cfg.eval_top_p,
            max_new_tokens=cfg.eval_max_new_tokens or cfg.max_new_tokens,
            seed=cfg.seed + 7,
        )
        t0 = time.perf_counter()
        rollouts = self.sampler.generate([self.prompt_text(p) for p in problems], params)
        correct = np.array(
            [float(self.task.reward(r.text, problems[r.prompt_index].answer)) > 0 for r in rollouts]
        )
        lines = [
            json.dumps(
                {
                    "problem_id": problems[r.prompt_index].id,
                    "sample": r.sample_index,
                    "answer": problems[r.prompt_index].answer,
                    "text": r.text,
                    "tokens": r.num_tokens,
                    "correct": bool(ok),
                }
            )
            + "\n"
            for r, ok in zip(rollouts, correct, strict=True)
        ]
        correct = correct.reshape(len(problems), cfg.eval_n)
        rec = {
            "step": step,
            "avg_at_n": float(correct.mean()),
            "pass_at_n": float(correct.any(axis=1).mean()),
            "n": cfg.eval_n,
            "problems": len(problems),
            "time_s": time.perf_counter() - t0,
        }
        return rec, lines


class EpisodeSource:
    """Multi-turn episodes of an environment task (see the module docstring)."""

    multi_turn = True

    def __init__(self, task: Any, tokenizer: Any, sampler: Any, cfg: TrainerConfig) -> None:
        self.task, self.tokenizer, self.sampler, self.cfg = task, tokenizer, sampler, cfg
        self.cursor = 0

    def state_dict(self) -> dict[str, int]:
        return {"cursor": self.cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cursor = int(state.get("cursor", 0))

    def next_problems(self, k: int) -> list[Any]:
        """Multi-turn problems have no prompt before their environment is reset: taken as they come (the
        episode's token budget is the task's ``max_total_tokens``)."""
        size = self.task.size("train")
        problems = [self.task.get("train", (self.cursor + j) % size) for j in range(k)]
        self.cursor += k
        return problems

    def play(self, split: str, problems: list[Any], n: int, params: SamplingParams) -> list[Trajectory]:
        """``n`` episodes of each problem's environment (problem-major), environments closed afterwards."""
        envs = self.task.make_envs(split, problems, n)
        try:
            return run_episodes(
                self.sampler,
                self.tokenizer,
                envs,
                params,
                max_turns=self.task.max_turns,
                max_total_tokens=self.task.max_total_tokens,
                enable_thinking=getattr(self.task, "enable_thinking", None),
            )
        finally:
            for env in envs:
                env.close()

    def sample_groups(self, k: int, seed: int) -> list[Group]:
        cfg, n = self.cfg, self.cfg.n
        problems = self.next_problems(k)
        params = SamplingParams(
            n=1, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=seed
        )
        trajectories = self.play("train", problems, n, params)
        if all(t.turns == 0 for t in trajectories):
            shortest = min(len(t.prompt_ids) for t in trajectories)
            raise ValueError(
                f"no episode of task {getattr(self.task, 'name', '?')!r} could generate: the shortest opening prompt has "
                f"{shortest} tokens, task.max_total_tokens={self.task.max_total_tokens}; raise task.max_total_tokens"
            )
        groups = []
        for i, p in enumerate(problems):
            ts = trajectories[i * n : (i + 1) * n]
            groups.append(
                Group(
                    p,
                    [t.to_rollout(i, s) for s, t in enumerate(ts)],
                    [t.reward for t in ts],
                    ts,
                    positive=[float(t.score.get("success", 0.0)) > 0 for t in ts],
                )
            )
        return groups

    @torch.no_grad()
    def evaluate(self, step: int) -> tuple[dict[str, float], list[str]]:
        """``eval_n`` episodes of each of ``eval_problems`` test episodes; ``avg_at_n``/``pass_at_n`` count successes
        (``score()["success"] > 0``), ``reward_mean`` the rewards."""
        cfg = self.cfg
        if not has_test_split(self.task):
            return no_held_out(step), []
        problems = [self.task.get("test", i) for i in range(min(cfg.eval_problems, self.task.size("test")))]
        params = SamplingParams(
            n=1,
            temperature=cfg.eval_temperature,
            top_p=cfg.eval_top_p,
            max_new_tokens=cfg.eval_max_new_tokens or cfg.max_new_tokens,
            seed=cfg.seed + 7,
        )
        t0 = time.perf_counter()
        trajectories = self.play("test", problems, cfg.eval_n, params)
        lines = []
        for j, t in enumerate(trajectories):
            p = problems[j // cfg.eval_n]
            lines.append(
                json.dumps(
                    {
                        "problem_id": p.id,
                        "sample": j % cfg.eval_n,
                        "episode_id": t.episode_id,
                        "reward": t.reward,
                        "success": float(t.score.get("success", 0.0)) > 0,
                        "score": t.score,
                        "turns": t.turns,
                        "invalid_actions": t.invalid_actions,
                        "finish_reason": t.finish_reason,
                        "generated_tokens": t.num_generated_tokens,
                        "messages": t.messages,
                    },
                    default=str,
                )
                + "\n"
            )
        success = np.array([float(t.score.get("success", 0.0)) > 0 for t in trajectories]).reshape(
            len(problems), cfg.eval_n
        )
        rec = {
            "step": step,
            "avg_at_n": float(success.mean()),
            "pass_at_n": float(success.any(axis=1).mean()),
            "reward_mean": float(np.mean([t.reward for t in trajectories])),
            "turns_mean": float(np.mean([t.turns for t in trajectories])),
            "n": cfg.eval_n,
            "problems": len(problems),
            "time_s": time.perf_counter() - t0,
        }
        return rec, lines


def make_source(task: Any, tokenizer: Any, sampler: Any, cfg: TrainerConfig) -> PromptSource | EpisodeSource:
    cls = EpisodeSource if getattr(task, "multi_turn", False) else PromptSource
    return cls(task, tokenizer, sampler, cfg)
