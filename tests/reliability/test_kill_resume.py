"""Real SIGKILLs (slow): the training and math-evaluation CLIs are killed at random points (seeded, several times
per run), then the same command is run again until it finishes. The result must equal an uninterrupted run's:
the same final parameters bit for bit, the same per-step logs, the same samples and metrics; no sample lost or
duplicated, no temporary leftovers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resrl.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def _start(cmd: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "ab") as f:
        return subprocess.Popen(
            cmd, cwd=cwd, env=ENV, stdout=f, stderr=subprocess.STDOUT, start_new_session=True
        )


def _kill_when(
    proc: subprocess.Popen, progress: Path, target_lines: int, extra_s: float, deadline_s: float = 600
) -> bool:
    """SIGKILL the process group ``extra_s`` seconds after ``progress`` has ``target_lines`` lines; False if the
    process ended first (nothing to kill)."""
    t0 = time.monotonic()
    while _lines(progress) < target_lines:
        if proc.poll() is not None:
            return False
        if time.monotonic() - t0 > deadline_s:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"no progress in {deadline_s} s: {progress} has {_lines(progress)} lines")
        time.sleep(0.02)
    time.sleep(extra_s)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: the run and any grading workers
    proc.wait()
    return True


def _run_to_end(cmd: list[str], cwd: Path, log: Path) -> None:
    proc = _start(cmd, cwd, log)
    assert proc.wait(timeout=1200) == 0, log.read_text()[-3000:]


# ------------------------------------------------------------------------------------------------ training
STEPS = 8
TRAIN = [
    sys.executable,
    "-m",
    "resrl.train",
    "method=w_reinforce",
    "model=tiny-qwen3",
    "task=arith",
    "trainer=test",
    f"trainer.steps={STEPS}",
    "trainer.eval_every=3",
    "trainer.keep_checkpoints=2",
    "trainer.max_new_tokens=6",
    "trainer.temperature=1.0",
]


def _training_state(run: Path) -> tuple[dict, list, list]:
    from safetensors.torch import load_file

    weights = load_file(run / "final_model" / "model.safetensors")
    untimed = lambda r: {k: v for k, v in r.items() if not k.startswith("time")}  # noqa: E731
    metrics = [untimed(json.loads(x)) for x in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [untimed(json.loads(x)) for x in (run / "eval.jsonl").read_text().splitlines()]
    return weights, metrics, evals


def test_training_killed_at_random_points_resumes_to_the_same_result(tmp_path):
    import torch

    _run_to_end([*TRAIN, f"output_dir={tmp_path / 'straight'}"], tmp_path, tmp_path / "straight.log")
    ref_weights, ref_metrics, ref_evals = _training_state(tmp_path / "straight")
    assert [r["step"] for r in ref_metrics] == list(range(1, STEPS + 1)) and ref_metrics[-1]["grad_norm"] > 0

    # the delay after a step's log line is a random fraction of one step's time (measured on the straight run): a
    # fixed delay would let a fast machine finish the whole run before the kill, which then tests nothing
    raw = [json.loads(x) for x in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    step_s = sum(r["time/step_s"] for r in raw) / len(raw)
    rng = random.Random(20251123)
    run = tmp_path / "killed"
    cmd = [*TRAIN, f"output_dir={run}"]
    kills = []
    for _ in range(5):
        # a random step to reach (0 = during start-up or the first evaluation), then a random fraction of a step, so
        # kills land in sampling, updates, logging, checkpoint writes and evaluations
        target, extra = rng.randint(0, STEPS - 2), rng.uniform(0.0, 0.9) * step_s
        proc = _start(cmd, tmp_path, tmp_path / "killed.log")
        if _kill_when(proc, run / "metrics.jsonl", target, extra) and not (run / "complete.json").exists():
            kills.append((target, round(extra, 2), _lines(run / "metrics.jsonl")))
        else:
            assert proc.wait() == 0
            break
    assert len(kills) >= 3, kills  # most attempts really killed a running job, before it finished
    _run_to_end(cmd, tmp_path, tmp_path / "killed.log")
    weights, metrics, evals = _training_state(run)
    assert weights.keys() == ref_weights.keys()
    different = [k for k in weights if not torch.equal(weights[k], ref_weights[k])]
    assert not different, f"parameters differ after kills {kills}: {different}"
    assert metrics == ref_metrics, f"per-step logs differ after kills {kills}"
    assert evals == ref_evals
    assert not list(run.rglob(".tmp*")), list(run.rglob(".tmp*"))
    assert "[resume]" in (tmp_path / "killed.log").read_text()


# ------------------------------------------------------------------------------------------------ evaluation
N, LIMIT = 4, 12
EVAL = [
    sys.executable,
    "-m",
    "evaluators.math",
    "checkpoint=tiny-qwen3",
    "benchmarks=[arith]",
    f"limit={LIMIT}",
    f"n={N}",
    "max_new_tokens=8",
    "problems_per_chunk=1",
    "engine=hf",
    "device=cpu",
    "batch_size=8",
    "temperature=1.0",
    "n_boot=50",
    "grader.workers=1",
]


def _samples(results: Path) -> tuple[list[tuple], dict, bytes]:
    folder = results / "samples" / "base-tiny-qwen3"
    rows = [json.loads(x) for x in (folder / "arith.jsonl").read_text().splitlines()]
    keys = [(r["problem_id"], r["sample_index"]) for r in rows]
    return (
        keys,
        {(r["problem_id"], r["sample_index"]): r for r in rows},
        (results / "metrics" / "base-tiny-qwen3" / "metrics.csv").read_bytes(),
    )


def test_evaluation_killed_mid_file_resumes_without_lost_or_duplicated_samples(tmp_path):
    _run_to_end([*EVAL, f"results_dir={tmp_path / 'straight'}"], tmp_path, tmp_path / "straight.log")
    ref_keys, ref_rows, ref_metrics = _samples(tmp_path / "straight")
    assert len(ref_keys) == len(set(ref_keys)) == N * LIMIT

    rng = random.Random(7)
    results = tmp_path / "killed"
    cmd = [*EVAL, f"results_dir={results}"]
    store = results / "samples" / "base-tiny-qwen3" / "arith.jsonl"
    kills = []
    for _ in range(4):
        target, extra = rng.randint(0, N * LIMIT - 1), rng.uniform(0.0, 0.3)
        proc = _start(cmd, tmp_path, tmp_path / "killed.log")
        if _kill_when(proc, store, target, extra):
            kills.append((target, round(extra, 2), _lines(store)))
        else:
            assert proc.returncode == 0
            break
    assert len(kills) >= 2, kills
    _run_to_end(cmd, tmp_path, tmp_path / "killed.log")
    keys, rows, metrics = _samples(results)
    assert len(keys) == len(set(keys)), f"duplicated samples after kills {kills}"
    assert set(keys) == set(ref_keys), f"lost samples after kills {kills}"
    assert rows == ref_rows  # the same samples as the uninterrupted run (seeded by place in the benchmark)
    assert metrics == ref_metrics
    assert store.read_bytes().endswith(b"\n")
