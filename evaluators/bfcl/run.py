"""The BFCL multi-turn evaluation: episodes (``run_episodes``) -> transcripts (resumable) -> checker -> metrics.

Outputs (``R`` = ``results_dir``, default ``results/``; ``<run>`` = ``run_name``, default ``<method>-<model>``):

- ``R/samples/<run>/bfcl_<category>.jsonl``: one line per entry: the transcript (messages), the calls executed
  per turn and step, the checker's verdict (``valid``, ``error_type``, ``error_message``), finish reason, reply
  and invalid-action counts, token counts. A rerun plays only the entries not stored yet.
- ``R/samples/<run>/sampling.json``: the model identity and settings the stored episodes were played with
  (``evaluators.common.sample_guard``: a rerun with another model or other settings is refused, or with
  ``overwrite=true`` plays them again); ``R/samples/<run>/.lock``: one process per run at a time.
- ``R/metrics/<run>/bfcl.csv`` (or ``.parquet``): tidy rows (``evaluators.bfcl.metrics``).
- ``R/metrics/<run>/bfcl_run_info.json``: resolved config, git commit, package versions, seed, timings.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from evaluators.bfcl.backend import require_bfcl
from evaluators.bfcl.config import BFCLEvalConfig
from evaluators.bfcl.data import BFCLEntry, load_category
from evaluators.bfcl.env import BFCLEnv
from evaluators.bfcl.metrics import accuracy_rows, benchmark_name
from evaluators.common import SampleStore
from evaluators.common.policy import EpisodePolicy
from evaluators.common.provenance import package_versions
from evaluators.common.run import EvalRun, open_run

log = logging.getLogger(__name__)

#: Settings that change what an episode is (with the model's identity); stored episodes are only reused under the
#: same values.
EPISODE_KEYS = (
    "data_dir",
    "call_format",
    "temperature",
    "top_p",
    "max_new_tokens",
    "max_turn_steps",
    "max_replies",
    "max_total_tokens",
    "enable_thinking",
    "seed",
)


# ------------------------------------------------------------------------------------------------------------
# Episodes
# ------------------------------------------------------------------------------------------------------------
def reply_budget(entries: list[BFCLEntry], cfg: BFCLEvalConfig) -> int:
    """Replies per episode for ``run_episodes``: ``max_replies``, else BFCL's bound: per user turn at most
    ``max_turn_steps + 1`` replies (the last one either ends the turn or forces the quit)."""
    if cfg.max_replies is not None:
        return cfg.max_replies
    return max(e.num_turns for e in entries) * (cfg.max_turn_steps + 1)


def episode_record(env: BFCLEnv, traj: Any, *, label: str, cfg: BFCLEvalConfig, seed: int) -> dict[str, Any]:
    """One stored line: transcript, executed calls, the checker's verdict, counts."""
    check = env.check or {}
    return {
        "problem_id": env.entry.id,
        "sample_index": 0,
        "benchmark": benchmark_name(env.entry.category),
        "category": env.entry.category,
        "model": label,
        "method": cfg.method,
        "seed": seed,
        "valid": bool(check.get("valid", False)),
        "correct": bool(check.get("valid", False)),
        "error_type": check.get("error_type"),
        "error_message": check.get("error_message"),
        "finish_reason": traj.finish_reason,
        "replies": traj.turns,
        "invalid_actions": traj.invalid_actions,
        "force_quit": env.force_quit,
        "turns_completed": int(traj.score.get("turns_completed", 0)),
        "num_turns": env.entry.num_turns,
        "turn_calls": env.turn_calls,
        "prompt_tokens": len(traj.prompt_ids),
        "response_tokens": len(traj.response_ids),
        "generated_tokens": int(sum(traj.action_mask)),
        "score": traj.score,
        "messages": traj.messages,
        "step_infos": getattr(traj, "step_infos", None),
    }


def play_category(
    cfg: BFCLEvalConfig,
    category: str,
    entries: list[BFCLEntry],
    store: SampleStore,
    policy: EpisodePolicy,
    label: str,
) -> int:
    """Play and store every entry of ``category`` not stored yet; returns the number of new episodes."""
    from resrl.rollout import SamplingParams
    from resrl.rollout.multi_turn import run_episodes

    done = store.done_keys()
    position = {e.id: i for i, e in enumerate(entries)}
    pending = [e for e in entries if (e.id, 0) not in done]
    written = 0
    for start in range(0, len(pending), cfg.episodes_per_chunk):
        chunk = pending[start : start + cfg.episodes_per_chunk]
        policy.load()
        seed = (
            cfg.seed + 1_000 * position[chunk[0].id]
        )  # the chunk's place in the category: resume draws the same
        params = SamplingParams(
            n=1, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=seed
        )
        envs = [BFCLEnv(e, call_format=cfg.call_format, max_turn_steps=cfg.max_turn_steps) for e in chunk]
        try:
            trajs = run_episodes(
                policy.sampler,
                policy.tokenizer,
                envs,
                params,
                max_turns=reply_budget(chunk, cfg),
                max_total_tokens=cfg.max_total_tokens or policy.context,
                enable_thinking=policy.enable_thinking,
                progress=cfg.progress,
                reuse_cache=cfg.reuse_cache,
            )
            records = [
                episode_record(env, tr, label=label, cfg=cfg, seed=seed)
                for env, tr in zip(envs, trajs, strict=True)
            ]
        finally:
            for env in envs:
                env.close()
        written += store.append(records)
        log.info(
            "%s: %d/%d episodes stored (%d valid in this chunk)",
            benchmark_name(category),
            len(done) + written,
            len(entries),
            sum(r["valid"] for r in records),
        )
    return written


def stored_validity(entries: list[BFCLEntry], records: list[dict[str, Any]], path: Path) -> list[bool]:
    """Per entry (in order) the stored verdict; raises naming the file when one is missing."""
    by_id = {r["problem_id"]: bool(r["valid"]) for r in records if r.get("sample_index") == 0}
    missing = [e.id for e in entries if e.id not in by_id]
    if missing:
        raise RuntimeError(f"{path}: {len(missing)} episodes missing, e.g. {missing[:3]}; rerun to complete")
    return [by_id[e.id] for e in entries]


def _guard(cfg: BFCLEvalConfig, run: EvalRun) -> dict[str, Any]:
    """The model's identity and the episode settings beside the transcripts (``sampling.json``)."""
    stored = sorted(run.samples_dir.glob("bfcl_*.jsonl"))
    return run.guard(cfg, EPISODE_KEYS, run.samples_dir / "sampling.json", stored, what="episodes")


def run(cfg: BFCLEvalConfig) -> dict[str, Any]:
    """Run the evaluation described by ``cfg``; returns paths, rows and timings."""
    require_bfcl()  # the executable classes and the checker: fail before anything is written
    run = open_run(cfg)  # a bad model, checkpoint, GPU or engine: one line before anything is written
    data = {c: load_category(c, cfg.data_dir, cfg.limit) for c in cfg.categories}
    with run.locked():
        return _run_locked(cfg, data, run)


def _run_locked(cfg: BFCLEvalConfig, data: dict[str, list[BFCLEntry]], run: EvalRun) -> dict[str, Any]:
    from evaluators.common.policy import require_hub_model
    from evaluators.common.sample_guard import UNRESOLVED

    record = _guard(cfg, run)
    stores = {c: SampleStore(run.samples_dir / f"{benchmark_name(c)}.jsonl") for c in data}
    if any((e.id, 0) not in stores[c] for c, entries in data.items() for e in entries):
        require_hub_model(
            run.spec
        )  # a Hub model without network: one line now, not a retrying download later
    policy = EpisodePolicy(cfg, run.spec)
    valid: dict[str, list[bool]] = {}
    stats = {"new_episodes": 0, "episodes_s": 0.0}
    for cat, entries in data.items():
        store = stores[cat]
        if store.dropped_partial_line:
            log.warning("%s: dropped a truncated last line (crash during a write)", store.path)
        t = time.monotonic()
        stats["new_episodes"] += play_category(cfg, cat, entries, store, policy, run.label)
        stats["episodes_s"] += time.monotonic() - t
        valid[cat] = stored_validity(entries, store.records(), store.path)
    rows = accuracy_rows(run.label, cfg.method, valid, n_boot=cfg.n_boot, alpha=1 - cfg.ci, seed=cfg.seed)
    if record["model"]["content"].startswith(UNRESOLVED):  # loading may have made the content knowable
        record = _guard(cfg, run)
    timings = {
        "total_s": run.elapsed(),
        "model_load_s": round(policy.load_seconds, 2),
        "episodes_s": round(stats["episodes_s"] - policy.load_seconds, 2),
        "new_episodes": stats["new_episodes"],
    }
    return run.finish(
        cfg,
        rows,
        f"bfcl.{cfg.format}",
        policy,
        record,
        timings,
        info_file="bfcl_run_info.json",
        n_entries={c: len(e) for c, e in data.items()},
        bfcl_eval_version=package_versions(("bfcl-eval",))["bfcl-eval"],
    )
