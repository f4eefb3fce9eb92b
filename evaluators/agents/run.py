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

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from evaluators.agents.config import AgentEvalConfig
from evaluators.agents.data import resolve_alfworld_dir
from evaluators.agents.metrics import agent_metric_rows
from evaluators.agents.registry import make_envs
from evaluators.common import SampleStore, write_metrics, write_provenance
from evaluators.common.schema import MetricRow, rows_to_frame
from resrl.paths import results_dir

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
def model_label(cfg: AgentEvalConfig) -> str:
    if cfg.model_name:
        return cfg.model_name
    if cfg.checkpoint:
        return "-".join(s for s in Path(cfg.checkpoint).resolve().parts[-2:] if s not in ("/", ""))
    return str(cfg.model.get("name", "model"))


def model_spec(cfg: AgentEvalConfig):
    from resrl.models import ModelSpec

    if cfg.checkpoint:
        path = Path(cfg.checkpoint)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"checkpoint folder {path} has no config.json (expected a save_pretrained folder)"
            )
        return ModelSpec(name=model_label(cfg), source="hub", hub_id=str(path.resolve()))
    return ModelSpec.from_dict(dict(cfg.model))


@dataclasses.dataclass
class Policy:
    """A loaded sampler and its tokenizer; ``context``: the token budget of one episode."""

    sampler: Any
    tokenizer: Any
    engine: str
    device: str
    context: int | None
    load_seconds: float
    enable_thinking: bool | None


def load_policy_sampler(cfg: AgentEvalConfig) -> Policy:
    """The policy's sampler (``evaluators.common.policy.load_sampler``) on the configured engine and device; an
    episode's token budget is the smaller of the model config's ``max_context`` and the model's own context."""
    from evaluators.common.policy import load_sampler

    spec = model_spec(cfg)
    loaded = load_sampler(spec, cfg.engine, cfg.device, batch_size=cfg.batch_size)
    context = (
        min(c for c in (spec.max_context, loaded.max_context) if c is not None)
        if (spec.max_context or loaded.max_context)
        else None
    )
    return Policy(
        loaded.sampler,
        loaded.tokenizer,
        loaded.engine,
        loaded.device,
        context,
        loaded.load_seconds,
        spec.chat_template_kwargs.get("enable_thinking"),
    )


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


def episode_settings(cfg: AgentEvalConfig, spec: Any = None) -> dict[str, Any]:
    """The record beside ``<env>.jsonl``: the model's identity and the settings that define an episode."""
    from evaluators.common.sample_guard import model_identity, sampling_record

    settings = {k: getattr(cfg, k) for k in EPISODE_KEYS}
    settings["max_steps"] = cfg.resolved_max_steps
    return sampling_record(model_identity(spec if spec is not None else model_spec(cfg)), **settings)


def check_episode_settings(samples_dir: Path, cfg: AgentEvalConfig, spec: Any = None) -> dict[str, Any]:
    """Record the model identity and episode settings beside the episodes; refuse to mix episodes played by another
    model or under other settings (``overwrite=true``: delete them). Returns the record."""
    from evaluators.common.sample_guard import guard_stored_samples

    current = episode_settings(cfg, spec)
    guard_stored_samples(
        samples_dir / f"{cfg.env}_settings.json",
        current,
        [samples_dir / f"{cfg.env}.jsonl"],
        overwrite=cfg.overwrite,
        what="episodes",
    )
    return current


def play_missing(
    cfg: AgentEvalConfig, envs: list[Any], store: SampleStore, label: str, load_policy=load_policy_sampler
) -> tuple[int, Policy | None]:
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


def format_table(rows: list[MetricRow]) -> str:
    """benchmark x metric, percent with the CI half-width."""
    df = rows_to_frame(rows)
    if df.empty:
        return "(no metrics)"
    df["cell"] = df.apply(lambda r: f"{100 * r.value:5.1f} ±{100 * (r.ci_high - r.ci_low) / 2:4.1f}", axis=1)
    table = df.pivot(index="benchmark", columns="metric", values="cell")
    return table.reindex(list(dict.fromkeys(df["benchmark"]))).fillna("").to_string()


def run(cfg: AgentEvalConfig, load_policy=load_policy_sampler) -> dict[str, Any]:
    """Run the evaluation described by ``cfg``; returns paths, rows and timings. ``load_policy`` is replaceable
    (tests pass a scripted policy)."""
    from evaluators.common.policy import check_engine_device
    from resrl.records import exclusive_lock

    t_start = time.monotonic()
    check_engine_device(cfg.engine, cfg.device)  # a missing GPU or vLLM: one line before anything else
    label = model_label(cfg)
    run_name = cfg.run_name or f"{cfg.method}-{label}"
    root = Path(cfg.results_dir) if cfg.results_dir else results_dir()
    samples_dir, metrics_dir = root / "samples" / run_name, root / "metrics" / run_name
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
    spec = model_spec(cfg)  # a bad model or checkpoint fails before anything is written
    with exclusive_lock(samples_dir / f".{cfg.env}.lock", what=f"run {run_name} ({cfg.env})"):
        return _run_locked(
            cfg, envs, spec, label, run_name, samples_dir, metrics_dir, data_source, load_policy, t_start
        )


def _run_locked(
    cfg: AgentEvalConfig,
    envs: list[Any],
    spec: Any,
    label: str,
    run_name: str,
    samples_dir: Path,
    metrics_dir: Path,
    data_source: str | None,
    load_policy,
    t_start: float,
) -> dict[str, Any]:
    from evaluators.common.policy import require_hub_model
    from evaluators.common.sample_guard import UNRESOLVED

    record = check_episode_settings(samples_dir, cfg, spec)
    store = SampleStore(samples_dir / f"{cfg.env}.jsonl")
    if store.dropped_partial_line:
        log.warning("%s: dropped a truncated last line (crash during a write)", store.path)
    if any(episode_key(e.episode_id) not in store for e in envs):
        require_hub_model(spec)  # a Hub model without network: one line now, not a retrying download later
    t_play = time.monotonic()
    played, policy = play_missing(cfg, envs, store, label, load_policy)
    play_s = time.monotonic() - t_play
    wanted = {episode_key(e.episode_id) for e in envs}
    records = [r for r in store.records() if (r["problem_id"], r["sample_index"]) in wanted]
    rows = agent_metric_rows(
        cfg.env, records, label, cfg.method, n_boot=cfg.n_boot, alpha=1 - cfg.ci, seed=cfg.seed
    )
    metrics_path = write_metrics(rows, metrics_dir / f"{cfg.env}.{cfg.format}")
    if record["model"]["content"].startswith(UNRESOLVED):  # loading may have made the content knowable
        record = check_episode_settings(samples_dir, cfg, spec)
    n = max(len(records), 1)
    load_s = policy.load_seconds if policy else 0.0
    timings = {
        "total_s": round(time.monotonic() - t_start, 2),
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
    info_path = write_provenance(
        metrics_dir / f"{cfg.env}_run_info.json",
        config=dataclasses.asdict(cfg),
        seed=cfg.seed,
        run_name=run_name,
        model=label,
        engine=policy.engine if policy else None,
        device=policy.device if policy else None,
        data_source=data_source,
        split=cfg.resolved_split,
        max_steps=cfg.resolved_max_steps,
        samples_path=str(store.path),
        timings=timings,
        model_fingerprint=record["model_fingerprint"],
        packages_agents={k: _version(k) for k in ("textworld", "alfworld", "fast_downward_textworld")},
    )
    return {
        "run_name": run_name,
        "rows": rows,
        "metrics_path": metrics_path,
        "info_path": info_path,
        "samples_path": store.path,
        "timings": timings,
        "data_source": data_source,
    }


def _version(dist: str) -> str | None:
    import importlib.metadata as md

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None
