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

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from evaluators.bfcl.backend import require_bfcl
from evaluators.bfcl.config import BFCLEvalConfig
from evaluators.bfcl.data import BFCLEntry, load_category
from evaluators.bfcl.env import BFCLEnv
from evaluators.bfcl.metrics import accuracy_rows, benchmark_name
from evaluators.common import SampleStore, write_metrics, write_provenance
from evaluators.common.schema import MetricRow, rows_to_frame
from resrl.paths import results_dir

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
# Model
# ------------------------------------------------------------------------------------------------------------
def model_label(cfg: BFCLEvalConfig) -> str:
    """The model's name in the metrics table: ``model_name``, else the checkpoint's last two path parts, else
    the model config's name."""
    if cfg.model_name:
        return cfg.model_name
    if cfg.checkpoint:
        return "-".join(s for s in Path(cfg.checkpoint).resolve().parts[-2:] if s not in ("/", ""))
    return str(cfg.model.get("name", "model"))


def model_spec(cfg: BFCLEvalConfig):
    """The ``resrl.models.ModelSpec`` to load (a checkpoint folder wins over ``model``)."""
    from resrl.models import ModelSpec

    if cfg.checkpoint:
        path = Path(cfg.checkpoint)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"checkpoint folder {path} has no config.json (expected a save_pretrained folder)"
            )
        return ModelSpec(name=model_label(cfg), source="hub", hub_id=str(path.resolve()))
    return ModelSpec.from_dict(dict(cfg.model))


class Policy:
    """The sampler and tokenizer, loaded on first use (a fully resumed run never loads the model)."""

    def __init__(self, cfg: BFCLEvalConfig) -> None:
        self.cfg = cfg
        self.spec = model_spec(cfg)
        self.sampler: Any = None
        self.tokenizer: Any = None
        self.max_context: int | None = None
        self.engine = self.device = ""
        self.load_seconds = 0.0

    def load(self) -> None:
        if self.sampler is not None:
            return
        from evaluators.common.policy import load_sampler

        loaded = load_sampler(self.spec, self.cfg.engine, self.cfg.device, batch_size=self.cfg.batch_size)
        self.sampler, self.tokenizer = loaded.sampler, loaded.tokenizer
        self.max_context = loaded.max_context or self.spec.max_context
        self.engine, self.device, self.load_seconds = loaded.engine, loaded.device, loaded.load_seconds

    @property
    def enable_thinking(self) -> bool | None:
        if self.cfg.enable_thinking is not None:
            return self.cfg.enable_thinking
        return self.spec.chat_template_kwargs.get("enable_thinking")


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
    policy: Policy,
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
                max_total_tokens=cfg.max_total_tokens or policy.max_context,
                enable_thinking=policy.enable_thinking,
                progress=cfg.progress,
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


def check_settings(samples_dir: Path, cfg: BFCLEvalConfig, spec: Any = None) -> dict[str, Any]:
    """Record the model identity and episode settings beside the transcripts; refuse to mix transcripts of another
    model or other settings (``overwrite=true``: delete them). Returns the record."""
    from evaluators.common.sample_guard import guard_stored_samples, model_identity, sampling_record

    spec = spec if spec is not None else model_spec(cfg)
    current = sampling_record(model_identity(spec), **{k: getattr(cfg, k) for k in EPISODE_KEYS})
    guard_stored_samples(
        samples_dir / "sampling.json",
        current,
        sorted(samples_dir.glob("bfcl_*.jsonl")),
        overwrite=cfg.overwrite,
        what="episodes",
    )
    return current


# ------------------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------------------
def format_table(rows: list[MetricRow]) -> str:
    """Accuracy (%) with the CI half-width per benchmark, for the terminal."""
    df = rows_to_frame(rows)
    if df.empty:
        return "(no metrics)"
    lines = [f"{'benchmark':<20} {'accuracy':>9}  {'95% CI':>15}"]
    for r in df.itertuples():
        lines.append(
            f"{r.benchmark:<20} {100 * r.value:8.1f}%  [{100 * r.ci_low:5.1f}, {100 * r.ci_high:5.1f}]"
        )
    return "\n".join(lines)


def run(cfg: BFCLEvalConfig) -> dict[str, Any]:
    """Run the evaluation described by ``cfg``; returns paths, rows and timings."""
    t0 = time.monotonic()
    require_bfcl()  # the executable classes and the checker: fail before anything is written
    data = {c: load_category(c, cfg.data_dir, cfg.limit) for c in cfg.categories}
    label = model_label(cfg)
    run_name = cfg.run_name or f"{cfg.method}-{label}"
    root = Path(cfg.results_dir) if cfg.results_dir else results_dir()
    samples_dir, metrics_dir = root / "samples" / run_name, root / "metrics" / run_name
    spec = model_spec(cfg)  # resolves the model config or checkpoint (fails before anything is written)
    from evaluators.common.policy import check_engine_device
    from resrl.records import exclusive_lock

    check_engine_device(cfg.engine, cfg.device)
    with exclusive_lock(samples_dir / ".lock", what=f"evaluation run {run_name}"):
        return _run_locked(cfg, data, spec, label, run_name, samples_dir, metrics_dir, t0)


def _run_locked(
    cfg: BFCLEvalConfig,
    data: dict[str, list[BFCLEntry]],
    spec: Any,
    label: str,
    run_name: str,
    samples_dir: Path,
    metrics_dir: Path,
    t0: float,
) -> dict[str, Any]:
    from evaluators.common.policy import require_hub_model
    from evaluators.common.sample_guard import UNRESOLVED

    record = check_settings(samples_dir, cfg, spec)
    stores = {c: SampleStore(samples_dir / f"{benchmark_name(c)}.jsonl") for c in data}
    if any((e.id, 0) not in stores[c] for c, entries in data.items() for e in entries):
        require_hub_model(spec)  # a Hub model without network: one line now, not a retrying download later
    policy = Policy(cfg)
    valid: dict[str, list[bool]] = {}
    stats = {"new_episodes": 0, "episodes_s": 0.0}
    for cat, entries in data.items():
        store = stores[cat]
        if store.dropped_partial_line:
            log.warning("%s: dropped a truncated last line (crash during a write)", store.path)
        t = time.monotonic()
        stats["new_episodes"] += play_category(cfg, cat, entries, store, policy, label)
        stats["episodes_s"] += time.monotonic() - t
        valid[cat] = stored_validity(entries, store.records(), store.path)
    rows = accuracy_rows(label, cfg.method, valid, n_boot=cfg.n_boot, alpha=1 - cfg.ci, seed=cfg.seed)
    metrics_path = write_metrics(rows, metrics_dir / f"bfcl.{cfg.format}")
    if record["model"]["content"].startswith(UNRESOLVED):  # loading may have made the content knowable
        record = check_settings(samples_dir, cfg, spec)
    timings = {
        "total_s": round(time.monotonic() - t0, 2),
        "model_load_s": round(policy.load_seconds, 2),
        "episodes_s": round(stats["episodes_s"] - policy.load_seconds, 2),
        "new_episodes": stats["new_episodes"],
    }
    info_path = write_provenance(
        metrics_dir / "bfcl_run_info.json",
        config=dataclasses.asdict(cfg),
        seed=cfg.seed,
        run_name=run_name,
        model=label,
        engine=policy.engine,
        device=policy.device,
        samples_dir=str(samples_dir),
        n_entries={c: len(e) for c, e in data.items()},
        timings=timings,
        model_fingerprint=record["model_fingerprint"],
        bfcl_eval_version=_bfcl_version(),
    )
    return {
        "run_name": run_name,
        "rows": rows,
        "metrics_path": metrics_path,
        "info_path": info_path,
        "samples_dir": samples_dir,
        "timings": timings,
    }


def _bfcl_version() -> str | None:
    import importlib.metadata as md

    try:
        return md.version("bfcl-eval")
    except md.PackageNotFoundError:
        return None
