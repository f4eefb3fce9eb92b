"""The code evaluation pipeline: sample -> sanitise -> grade in the sandbox -> store (resumable) -> metrics.

Outputs (``R`` = ``results_dir``, default ``results/``; ``<run>`` = ``run_name``, default ``<method>-<model>``):

- ``R/samples/<run>/<benchmark>.jsonl``: one line per (problem, sample): response text, token count, finish
  reason, the graded program, verdict (status, detail, tests passed) and correctness. A rerun samples and
  grades only the missing (problem, sample) pairs; ``regrade=true`` re-grades the stored responses.
- ``R/metrics/<run>/<benchmark>.csv`` (or ``.parquet``): the tidy rows of the math evaluator's schema (model,
  method, benchmark, metric, k, value, ci_low, ci_high, n_samples): ``avg@k`` and ``pass@k``; HumanEval+ also
  reports the base tests alone as benchmark ``humaneval_plus_base``; Codeforces adds ``elo`` (rating points) and
  ``percentile`` (percent of rated users), with the method written to ``codeforces_elo.json`` beside it.
- ``R/metrics/<run>/<benchmark>_run_info.json``: resolved config, git commit, package versions, seed, timings,
  sandbox mode and grading throughput.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

from evaluators.code import benchmarks
from evaluators.code.benchmarks import CodeTask
from evaluators.code.config import CodeBenchmarkConfig, CodeEvalConfig
from evaluators.code.prompting import render
from evaluators.code.sandbox import detect_mode, run_many
from evaluators.common import SampleStore
from evaluators.common.policy import LazyPolicy, model_spec
from evaluators.common.run import EvalRun, open_run

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------------------
# Benchmarks
# ------------------------------------------------------------------------------------------------------------
def load_tasks(b: CodeBenchmarkConfig, limit: int | None) -> list[CodeTask]:
    """The benchmark's problems (the first ``limit``); a duplicate problem id is an error naming the data file."""
    tasks = _read_tasks(b, None)  # the whole file is checked, whatever the limit
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise ValueError(f"{_data_location(b)}: duplicate problem id {t.id!r} (benchmark {b.name})")
        seen.add(t.id)
    return tasks[:limit] if limit is not None else tasks


def _data_location(b: CodeBenchmarkConfig) -> Path:
    if b.data_path is not None:
        return Path(b.data_path)
    from resrl.paths import data_dir

    return data_dir() / benchmarks.get(b.name).shipped_data


def _read_tasks(b: CodeBenchmarkConfig, limit: int | None) -> list[CodeTask]:
    tasks = benchmarks.get(b.name).read_tasks(b)
    return tasks[:limit] if limit is not None else tasks


def grade_response(text: str, task: CodeTask, b: CodeBenchmarkConfig, gt: Any = None) -> dict[str, Any]:
    """Sanitise and grade one response (the benchmark's own ``grade``); ``gt``: what its ``prepare`` returned."""
    return benchmarks.get(b.name).grade(text, task, b, gt)


# ------------------------------------------------------------------------------------------------------------
# Model
# ------------------------------------------------------------------------------------------------------------
class LazySampler(LazyPolicy):
    """The policy on first use (``evaluators.common.policy.LazyPolicy``) with the code prompt."""

    def __init__(self, cfg: CodeEvalConfig) -> None:
        super().__init__(cfg, model_spec(cfg))

    def render(self, task: CodeTask) -> str:
        return render(self.tokenizer, task.user, self.cfg.prompt, self.spec.chat_template_kwargs)


# ------------------------------------------------------------------------------------------------------------
# Sampling, grading, storing
# ------------------------------------------------------------------------------------------------------------
_VERDICT_KEYS = (
    "program",
    "status",
    "detail",
    "correct",
    "correct_base",
    "base_status",
    "plus_status",
    "tests_passed",
    "tests_total",
)


def _grade_many(texts: list[str], tasks: list[CodeTask], cfg: CodeEvalConfig, gt: dict | None) -> list[dict]:
    jobs = [partial(grade_response, t, task, cfg.benchmark, gt) for t, task in zip(texts, tasks, strict=True)]
    return run_many(jobs, workers=cfg.workers, desc=f"{cfg.benchmark.name}: grading")


def sample_and_grade(
    cfg: CodeEvalConfig,
    tasks: list[CodeTask],
    store: SampleStore,
    sampler: LazySampler,
    label: str,
    gt: dict | None,
    stats: dict,
) -> int:
    """Sample, grade and store every missing (problem, sample) pair; returns the number of new samples."""
    from tqdm.auto import tqdm

    done = store.done_keys()
    todo = {t.id: [s for s in range(cfg.n) if (t.id, s) not in done] for t in tasks}
    pending = [t for t in tasks if todo[t.id]]
    position = {t.id: i for i, t in enumerate(tasks)}
    written = 0
    for start in tqdm(range(0, len(pending), cfg.problems_per_chunk), desc=f"{cfg.benchmark.name}: chunks"):
        chunk = pending[start : start + cfg.problems_per_chunk]
        groups: dict[tuple[int, ...], list[CodeTask]] = {}
        for t in chunk:
            groups.setdefault(tuple(todo[t.id]), []).append(t)
        for g, (indices, group) in enumerate(groups.items()):
            seed = (
                cfg.seed + 1_000 * position[chunk[0].id] + g
            )  # place in the benchmark: resume draws the same samples
            t0 = time.monotonic()
            rollouts = sampler.generate([sampler.prompt(t) for t in group], len(indices), seed)
            stats["generate_s"] += time.monotonic() - t0
            t0 = time.monotonic()
            verdicts = _grade_many(
                [r.text for r in rollouts], [group[r.prompt_index] for r in rollouts], cfg, gt
            )
            stats["grade_s"] += time.monotonic() - t0
            stats["graded"] += len(verdicts)
            records = []
            for r, v in zip(rollouts, verdicts, strict=True):
                task = group[r.prompt_index]
                records.append(
                    {
                        "problem_id": task.id,
                        "sample_index": indices[r.sample_index],
                        "benchmark": cfg.benchmark.name,
                        "model": label,
                        "method": cfg.method,
                        "text": r.text,
                        "num_tokens": r.num_tokens,
                        "finish_reason": r.finish_reason,
                        "seed": seed,
                        "rating": task.rating,
                        **{k: v[k] for k in _VERDICT_KEYS if k in v},
                    }
                )
            written += store.append(records)
    return written


def regrade(
    cfg: CodeEvalConfig, tasks: list[CodeTask], store: SampleStore, gt: dict | None, stats: dict
) -> None:
    """Re-grade every stored response with the current grader and rewrite the store atomically."""
    from evaluators.common import atomic_write_text

    by_id = {t.id: t for t in tasks}
    records = [r for r in store.records() if r["problem_id"] in by_id]
    t0 = time.monotonic()
    verdicts = _grade_many([r["text"] for r in records], [by_id[r["problem_id"]] for r in records], cfg, gt)
    stats["grade_s"] += time.monotonic() - t0
    stats["graded"] += len(verdicts)
    kept = [r for r in store.records() if r["problem_id"] not in by_id]
    new = [
        {**r, **{k: v[k] for k in _VERDICT_KEYS if k in v}} for r, v in zip(records, verdicts, strict=True)
    ]
    import json

    atomic_write_text(
        store.path, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in kept + new)
    )


def correctness(tasks: list[CodeTask], records: list[dict], n: int, key: str = "correct") -> list[list[bool]]:
    """``[problem][sample]`` correctness for samples 0..n-1; raises if any is missing."""
    by_key = {(r["problem_id"], r["sample_index"]): bool(r.get(key, False)) for r in records}
    missing = [(t.id, s) for t in tasks for s in range(n) if (t.id, s) not in by_key]
    if missing:
        raise RuntimeError(
            f"{len(missing)} samples missing from the store, e.g. {missing[:3]}; rerun to complete"
        )
    return [[by_key[(t.id, s)] for s in range(n)] for t in tasks]


# ------------------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------------------
#: Settings that change what a sample is (with the model's identity): stored samples are reused only under the same.
SAMPLING_KEYS = ("temperature", "top_p", "max_new_tokens", "seed", "prompt")


def run(cfg: CodeEvalConfig) -> dict[str, Any]:
    """Run the evaluation described by ``cfg``; returns paths, rows and timings. One process at a time per run and
    benchmark (a lock beside the samples); stored samples of another model or other settings are refused
    (``overwrite=true`` deletes them)."""
    run = open_run(cfg)
    tasks = load_tasks(cfg.benchmark, cfg.limit)
    bench = cfg.benchmark.name
    with run.locked(f".{bench}.lock", what=f"run {run.run_name} ({bench})"):
        return _run_locked(cfg, tasks, run)


def _guard(cfg: CodeEvalConfig, run: EvalRun, samples_path: Path) -> dict[str, Any]:
    record_path = samples_path.with_name(f"{cfg.benchmark.name}_sampling.json")
    return run.guard(cfg, SAMPLING_KEYS, record_path, [samples_path])


def _run_locked(cfg: CodeEvalConfig, tasks: list[CodeTask], run: EvalRun) -> dict[str, Any]:
    from evaluators.common.policy import require_hub_model
    from evaluators.common.sample_guard import UNRESOLVED

    bench = cfg.benchmark.name
    samples_path = run.samples_dir / f"{bench}.jsonl"
    record = _guard(cfg, run, samples_path)
    store = SampleStore(samples_path)
    if store.dropped_partial_line:
        log.warning("%s: dropped a truncated last line (crash during a write)", store.path)
    if any((t.id, s) not in store for t in tasks for s in range(cfg.n)):
        require_hub_model(
            run.spec
        )  # a Hub model without network: one line now, not a retrying download later
    sampler = LazySampler(cfg)
    mode = detect_mode()
    stats = {"generate_s": 0.0, "grade_s": 0.0, "graded": 0}
    benchmark = benchmarks.get(bench)
    t0 = time.monotonic()
    gt = benchmark.prepare(tasks, cfg.benchmark, cfg.workers)  # e.g. HumanEval+'s expected outputs
    stats["expected_outputs_s"] = time.monotonic() - t0
    if cfg.regrade:
        regrade(cfg, tasks, store, gt, stats)
    new = sample_and_grade(cfg, tasks, store, sampler, run.label, gt, stats)
    records = [r for r in store.records() if r["sample_index"] < cfg.n]
    table = benchmark.correctness_tables(tasks, records, cfg.n, correctness)
    rows = run.sampled_rows(cfg, table, macro=False)
    rows, summary = benchmark.extra_rows(cfg, tasks, table, run.label, rows, run.metrics_dir)
    if record["model"]["content"].startswith(UNRESOLVED):  # the load may have made it knowable: record it
        record = _guard(cfg, run, samples_path)
    timings = {
        "total_s": run.elapsed(),
        "model_load_s": round(sampler.load_seconds, 2),
        "generate_s": round(stats["generate_s"] - sampler.load_seconds, 2),
        "grade_s": round(stats["grade_s"], 2),
        "graded_programs": stats["graded"],
        "grading_programs_per_s": round(stats["graded"] / stats["grade_s"], 3) if stats["grade_s"] else None,
        "expected_outputs_s": round(stats.get("expected_outputs_s", 0.0), 2),
        "new_samples": new,
        "prompts_too_long": getattr(sampler, "prompts_too_long", 0),
    }
    out = run.finish(
        cfg,
        rows,
        f"{bench}.{cfg.format}",
        sampler,
        record,
        timings,
        info_file=f"{bench}_run_info.json",
        samples_path=samples_path,
        correct=table,
        sandbox_mode=mode,
        sandbox_workers=cfg.workers,
        n_problems=len(tasks),
        **dict(summary or {}),
    )
    return {**out, "sandbox_mode": mode}
