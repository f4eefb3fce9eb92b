"""The math evaluation pipeline: sample -> store (resumable) -> grade -> metrics table.

Outputs (``R`` = ``results_dir``, default ``results/``):

- ``R/samples/<run>/<benchmark>.jsonl``: one line per (problem, sample): text, token count, finish reason,
  extracted answer, correctness, reference answer. A rerun samples only the missing (problem, sample) pairs.
- ``R/metrics/<run>/metrics.csv`` (or ``.parquet``): tidy rows model, method, benchmark, metric, k, value,
  ci_low, ci_high, n_samples (Avg@n and Pass@k per benchmark and their macro average).
- ``R/metrics/<run>/run_info.json``: resolved config, git commit, package versions, seed, timings, the model's
  content fingerprint.
- ``R/samples/<run>/sampling.json``: the model identity and sampling settings the stored samples were drawn with
  (``evaluators.common.sample_guard``): a rerun with another model (even at the same path) or other settings is
  refused, or with ``overwrite=true`` samples again. ``R/samples/<run>/.lock``: one process per run at a time.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

from evaluators.common import SampleStore
from evaluators.common.policy import LazyPolicy, model_spec
from evaluators.common.run import EvalRun, open_run
from evaluators.math.benchmarks import MathProblem, load_benchmark
from evaluators.math.config import MathEvalConfig
from evaluators.math.grading_pool import GradingPool
from evaluators.math.prompting import render_prompt

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------------
# Sampler
# ------------------------------------------------------------------------------------------------------
class LazySampler(LazyPolicy):
    """The policy on first use (``evaluators.common.policy.LazyPolicy``) with the math prompt."""

    def __init__(self, cfg: MathEvalConfig) -> None:
        super().__init__(cfg, model_spec(cfg))

    def render(self, problem: MathProblem) -> str:
        return render_prompt(self.tokenizer, problem.problem, self.cfg.prompt, self.spec.chat_template_kwargs)


# ------------------------------------------------------------------------------------------------------
# Sampling with resume
# ------------------------------------------------------------------------------------------------------
def missing_samples(problems: list[MathProblem], n: int, done: set[tuple]) -> dict[str, list[int]]:
    """For each problem id, the sample indices in ``range(n)`` not yet stored (problems with none omitted)."""
    out = {}
    for p in problems:
        todo = [s for s in range(n) if (p.id, s) not in done]
        if todo:
            out[p.id] = todo
    return out


def sample_benchmark(
    cfg: MathEvalConfig,
    bench: str,
    problems: list[MathProblem],
    store: SampleStore,
    sampler: LazySampler,
    pool: GradingPool,
    model: str,
) -> int:
    """Sample, grade and store every missing (problem, sample) pair; returns the number of new samples."""
    from tqdm.auto import tqdm

    todo = missing_samples(problems, cfg.n, store.done_keys())
    if not todo:
        return 0
    pending = [p for p in problems if p.id in todo]
    position = {p.id: i for i, p in enumerate(problems)}
    written = 0
    chunks = range(0, len(pending), cfg.problems_per_chunk)
    for start in tqdm(chunks, desc=f"{bench}: sampling", unit="chunk"):
        chunk = pending[start : start + cfg.problems_per_chunk]
        # problems missing the same sample indices are sampled together (usually: all of them, all n)
        groups: dict[tuple[int, ...], list[MathProblem]] = defaultdict(list)
        for p in chunk:
            groups[tuple(todo[p.id])].append(p)
        for g, (indices, group) in enumerate(groups.items()):
            # seeded by the chunk's place in the benchmark, not in this run's to-do list: a run resumed after a
            # kill draws the same samples as an uninterrupted one (chunks are stored whole)
            seed = cfg.seed + 1_000 * position[chunk[0].id] + g
            rollouts = sampler.generate([sampler.prompt(p) for p in group], len(indices), seed)
            answers = [group[r.prompt_index].answer for r in rollouts]
            graded = pool.grade([r.text for r in rollouts], answers)
            records = []
            for r, (extracted, ok) in zip(rollouts, graded, strict=True):
                p = group[r.prompt_index]
                records.append(
                    {
                        "problem_id": p.id,
                        "sample_index": indices[r.sample_index],
                        "benchmark": bench,
                        "model": model,
                        "method": cfg.method,
                        "text": r.text,
                        "num_tokens": r.num_tokens,
                        "finish_reason": r.finish_reason,
                        "extracted_answer": extracted,
                        "correct": bool(ok),
                        "answer": p.answer,
                        "seed": seed,
                    }
                )
            written += store.append(records)
    return written


def correctness_table(problems: list[MathProblem], records: list[dict[str, Any]], n: int) -> list[list[bool]]:
    """``[problem][sample]`` correctness for samples 0..n-1; raises if any is missing."""
    by_key = {(r["problem_id"], r["sample_index"]): bool(r["correct"]) for r in records}
    missing = [(p.id, s) for p in problems for s in range(n) if (p.id, s) not in by_key]
    if missing:
        raise RuntimeError(
            f"{len(missing)} samples missing from the store, e.g. {missing[:3]}; rerun to complete"
        )
    return [[by_key[(p.id, s)] for s in range(n)] for p in problems]


def regrade_records(records: list[dict[str, Any]], pool: GradingPool) -> list[dict[str, Any]]:
    """Re-extract and re-grade stored samples with the current grader (``regrade=true``)."""
    graded = pool.grade([r["text"] for r in records], [r["answer"] for r in records], progress=True)
    return [
        {**r, "extracted_answer": e, "correct": bool(ok)} for r, (e, ok) in zip(records, graded, strict=True)
    ]


# ------------------------------------------------------------------------------------------------------
# Table and entry point
# ------------------------------------------------------------------------------------------------------
#: Settings that change what a sample is (with the model's identity); stored samples are only reused under the same.
SAMPLING_KEYS = ("temperature", "top_p", "max_new_tokens", "seed", "prompt")


def run(cfg: MathEvalConfig) -> dict[str, Any]:
    """Run the evaluation described by ``cfg``; returns paths, rows and timings. Holds the run's lock
    (``samples/<run>/.lock``) throughout: a second process on the same run stops at once, naming the first."""
    run = open_run(cfg)
    data = {b: load_benchmark(b, limit=cfg.limit) for b in cfg.benchmarks}  # fail fast on a bad file
    with run.locked():
        return _run_locked(cfg, data, run)


def _guard(cfg: MathEvalConfig, run: EvalRun) -> dict[str, Any]:
    return run.guard(
        cfg, SAMPLING_KEYS, run.samples_dir / "sampling.json", sorted(run.samples_dir.glob("*.jsonl"))
    )


def _run_locked(cfg: MathEvalConfig, data: dict[str, list[MathProblem]], run: EvalRun) -> dict[str, Any]:
    from evaluators.common.policy import require_hub_model
    from evaluators.common.sample_guard import UNRESOLVED

    record = _guard(cfg, run)
    stores = {b: SampleStore(run.samples_dir / f"{b}.jsonl") for b in data}
    if any(missing_samples(p, cfg.n, stores[b].done_keys()) for b, p in data.items()):
        require_hub_model(
            run.spec
        )  # a Hub model without network: one line now, not a retrying download later
    sampler = LazySampler(cfg)
    correct: dict[str, list[list[bool]]] = {}
    new_samples = 0
    gen_seconds = 0.0
    with GradingPool(workers=cfg.grader.workers, timeout_s=cfg.grader.timeout_s) as pool:
        for bench, problems in data.items():
            store = stores[bench]
            if store.dropped_partial_line:
                log.warning("%s: dropped a truncated last line (crash during a write)", store.path)
            t = time.monotonic()
            new_samples += sample_benchmark(cfg, bench, problems, store, sampler, pool, run.label)
            gen_seconds += time.monotonic() - t
            wanted = {p.id for p in problems}
            records = [r for r in store.records() if r["problem_id"] in wanted and r["sample_index"] < cfg.n]
            if cfg.regrade:
                records = regrade_records(records, pool)
            correct[bench] = correctness_table(problems, records, cfg.n)
        grader_kills = pool.n_killed

    rows = run.sampled_rows(cfg, correct)
    if record["model"]["content"].startswith(UNRESOLVED):  # loading may have made the content knowable
        record = _guard(cfg, run)
    timings = {
        "total_s": run.elapsed(),
        "model_load_s": round(sampler.load_seconds, 2),
        "sample_and_grade_s": round(gen_seconds - sampler.load_seconds, 2),
        "new_samples": new_samples,
        "grader_workers_killed": grader_kills,
        "prompts_too_long": getattr(sampler, "prompts_too_long", 0),
    }
    return run.finish(
        cfg,
        rows,
        f"metrics.{cfg.format}",
        sampler,
        record,
        timings,
        correct=correct,
        n_problems={b: len(p) for b, p in data.items()},
    )
