"""The agent evaluation: build the episodes, play them with the policy (``run_episodes``), store, score.

Outputs (``R`` = ``results_dir``, default ``results/``; ``<run>`` = ``run_name``, default ``<method>-<model>``):

- ``R/samples/<run>/<env>.jsonl``: one line per episode, keyed ``(problem_id, sample_index)`` (game or goal id,
  repeat): success, reward, score, steps, invalid actions, finish reason, token counts and the whole transcript
  (``messages``). A rerun plays only the episodes not stored yet, in chunks of ``episodes_per_chunk`` played
  together; a chunk's sampling seed is ``seed + 1000 * (position of its first episode)``, so a run resumed at a
  chunk boundary uses the seeds an uninterrupted run would have.
- ``R/metrics/<run>/<env>.csv`` (or ``.parquet``): tidy rows (``evaluators.agents.metrics``).
- ``R/metrics/<run>/<env>_run_info.json``: resolved config, git commit, package versions, data source, timings.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from evaluators.agents.config import AgentEvalConfig
from evaluators.agents.data import resolve_alfworld_dir
from evaluators.agents.metrics import agent_metric_rows
from evaluators.agents.registry import make_envs
from evaluators.common import SampleStore
from evaluators.common.policy import EpisodePolicy
from evaluators.common.provenance import package_versions
from evaluators.common.run import EvalRun, open_run

log = logging.getLogger(__name__)

#: Settings that change what an episode is (with the model's identity); stored episodes are reused only under the
#: same values.
EPISODE_KEYS = (
    "env",
    "data_dir",
    "temperature",
    "top_p",
    "max_new_tokens",
    "max_total_tokens",
    "think",
    "max_steps",
    "seed",
)


# ------------------------------------------------------------------------------------------------ model
def load_policy_sampler(cfg: AgentEvalConfig) -> EpisodePolicy:
    """The policy (``evaluators.common.policy.EpisodePolicy``) loaded on the configured engine and device."""
    return EpisodePolicy(cfg).load()


# ------------------------------------------------------------------------------------------------ episodes
def episode_key(episode_id: str) -> tuple[str, int]:
    """``alfworld/valid_unseen/<game>#2`` -> (``alfworld/valid_unseen/<game>``, 2); no ``#k`` -> repeat 0."""
    base, sep, rep = episode_id.rpartition("#")
    if sep and rep.isdigit():
        return base, int(rep)
    return episode_id, 0


def episode_record(cfg: AgentEvalConfig, env: Any, traj: Any, model: str, seed: int) -> dict[str, Any]:
    """The stored line of one finished episode."""
    problem_id, rep = episode_key(traj.episode_id)
    score = dict(traj.score)
    return {
        "problem_id": problem_id,
        "sample_index": rep,
        "episode_id": traj.episode_id,
        "env": cfg.env,
        "split": cfg.resolved_split,
        "task_type": getattr(env, "task_type", None),
        "task": getattr(env, "task", None) or getattr(env, "instruction", None),
        "success": float(score["success"]),
        "reward": float(score["reward"]),
        "score": float(score.get("score", score["reward"])),
        "steps": int(score.get("steps", traj.turns)),
        "turns": traj.turns,
        "invalid_actions": traj.invalid_actions,
        "finish_reason": traj.finish_reason,
        "prompt_tokens": len(traj.prompt_ids),
        "generated_tokens": int(sum(traj.action_mask)),
        "total_tokens": len(traj.prompt_ids) + len(traj.response_ids),
        "step_rewards": list(traj.step_rewards),
        "messages": traj.messages,
        "model": model,
        "method": cfg.method,
        "seed": seed,
    }


def play_missing(
    cfg: AgentEvalConfig, envs: list[Any], store: SampleStore, label: str, load_policy=load_policy_sampler
) -> tuple[int, EpisodePolicy | None]:
    """Play every environment whose episode is not stored, ``episodes_per_chunk`` at a time; returns the number
    of episodes played and the policy (None when nothing was left to play)."""
    from resrl.rollout import SamplingParams
    from resrl.rollout.multi_turn import run_episodes

    done = store.done_keys()
    todo = [(i, e) for i, e in enumerate(envs) if episode_key(e.episode_id) not in done]
    if not todo:
        return 0, None
    policy = load_policy(cfg)
    budget = cfg.max_total_tokens or policy.context
    played = 0
    for start in range(0, len(todo), cfg.episodes_per_chunk):
        chunk = todo[start : start + cfg.episodes_per_chunk]
        seed = cfg.seed + 1_000 * chunk[0][0]  # by position in the episode list (see the module docstring)
        params = SamplingParams(
            n=1, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=seed
        )
        chunk_envs = [e for _, e in chunk]
        try:
            trajs = run_episodes(
                policy.sampler,
                policy.tokenizer,
                chunk_envs,
                params,
                max_turns=cfg.resolved_max_steps,
                max_total_tokens=budget,
                enable_thinking=policy.enable_thinking,
                progress=cfg.progress,
                reuse_cache=cfg.reuse_cache,
            )
        finally:
            for e in chunk_envs:
                e.close()
        played += store.append(
            [episode_record(cfg, e, t, label, seed) for e, t in zip(chunk_envs, trajs, strict=True)]
        )
        ok = sum(t.score["success"] for t in trajs)
        log.info(
            "episodes %d-%d of %d played: %d/%d succeeded",
            start + 1,
            start + len(chunk),
            len(todo),
            ok,
            len(chunk),
        )
    return played, policy


def run(cfg: AgentEvalConfig, load_policy=load_policy_sampler) -> dict[str, Any]:
    """Run the evaluation described by ``cfg``; returns paths, rows and timings. ``load_policy`` is replaceable
    (tests pass a scripted policy)."""
    run = open_run(cfg)  # a bad model, checkpoint, GPU or engine: one line before anything else
    data_source = None
    if cfg.env == "alfworld":
        data_path, data_source = resolve_alfworld_dir(cfg.data_dir)
        if data_source == "shipped":
            log.warning(
                "no data_dir and no $ALFWORLD_DATA: playing the project's small generated games in %s "
                "(not ALFWorld's benchmark games; see data/agents/SOURCES.md)",
                data_path,
            )
    envs = make_envs(
        cfg.env,
        cfg.resolved_split,
        cfg.episodes,
        cfg.data_dir,
        cfg.seed,
        cfg.resolved_max_steps,
        think=cfg.think,
        task_types=cfg.task_types,
        webshop_num_products=cfg.webshop_num_products,
    )
    with run.locked(f".{cfg.env}.lock", what=f"run {run.run_name} ({cfg.env})"):
        return _run_locked(cfg, envs, run, data_source, load_policy)


def _guard(cfg: AgentEvalConfig, run: EvalRun) -> dict[str, Any]:
    """The model's identity and the settings that define an episode, beside ``<env>.jsonl``."""
    return run.guard(
        cfg,
        EPISODE_KEYS,
        run.samples_dir / f"{cfg.env}_settings.json",
        [run.samples_dir / f"{cfg.env}.jsonl"],
        what="episodes",
        max_steps=cfg.resolved_max_steps,
    )


def _run_locked(
    cfg: AgentEvalConfig, envs: list[Any], run: EvalRun, data_source: str | None, load_policy
) -> dict[str, Any]:
    from evaluators.common.policy import require_hub_model
    from evaluators.common.sample_guard import UNRESOLVED

    record = _guard(cfg, run)
    store = SampleStore(run.samples_dir / f"{cfg.env}.jsonl")
    if store.dropped_partial_line:
        log.warning("%s: dropped a truncated last line (crash during a write)", store.path)
    if any(episode_key(e.episode_id) not in store for e in envs):
        require_hub_model(
            run.spec
        )  # a Hub model without network: one line now, not a retrying download later
    t_play = time.monotonic()
    played, policy = play_missing(cfg, envs, store, run.label, load_policy)
    play_s = time.monotonic() - t_play
    wanted = {episode_key(e.episode_id) for e in envs}
    records = [r for r in store.records() if (r["problem_id"], r["sample_index"]) in wanted]
    rows = agent_metric_rows(
        cfg.env, records, run.label, cfg.method, n_boot=cfg.n_boot, alpha=1 - cfg.ci, seed=cfg.seed
    )
    if record["model"]["content"].startswith(UNRESOLVED):  # loading may have made the content knowable
        record = _guard(cfg, run)
    n = max(len(records), 1)
    load_s = policy.load_seconds if policy else 0.0
    timings = {
        "total_s": run.elapsed(),
        "model_load_s": round(load_s, 2),
        "play_s": round(play_s - load_s, 2),
        "new_episodes": played,
        "episodes": len(records),
        "mean_turns": round(sum(r["turns"] for r in records) / n, 2),
        "invalid_actions_per_episode": round(sum(r["invalid_actions"] for r in records) / n, 2),
        "finish_reasons": {
            k: sum(r["finish_reason"] == k for r in records)
            for k in sorted({r["finish_reason"] for r in records})
        },
    }
    out = run.finish(
        cfg,
        rows,
        f"{cfg.env}.{cfg.format}",
        policy,
        record,
        timings,
        info_file=f"{cfg.env}_run_info.json",
        samples_path=store.path,
        data_source=data_source,
        split=cfg.resolved_split,
        max_steps=cfg.resolved_max_steps,
        packages_agents=package_versions(("textworld", "alfworld", "fast_downward_textworld")),
    )
    return {**out, "data_source": data_source}
