"""Records that cannot lie, through the real CLI (`python -m resrl.train`, subprocesses): a run folder belongs to
one configuration; a finished run says so and does nothing; a failed command leaves a finished run's records
alone; one process per run folder; files honour the umask; checkpoints can be cleaned after export."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resrl.paths import REPO_ROOT

BASE = (
    "method=grpo",
    "model=tiny-qwen3",
    "task=arith",
    "trainer=test",
    "trainer.steps=1",
    "trainer.eval_problems=1",
    "trainer.eval_n=1",
    "trainer.max_new_tokens=4",
)


def train(*overrides: str, cwd: Path, umask: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run(
        [sys.executable, "-m", "resrl.train", *BASE, *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=pre,
    )


def _err_lines(proc) -> list[str]:
    return [
        line for line in proc.stderr.splitlines() if line.strip() and not line.startswith(("train ", "\r"))
    ]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished 1-step run in an explicit folder (umask 022)."""
    work = tmp_path_factory.mktemp("work")
    proc = train(f"output_dir={work / 'run'}", cwd=work, umask=0o022)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work, work / "run"


def test_a_finished_run_says_so_and_does_nothing(finished):
    work, run = finished
    evals = (run / "eval.jsonl").read_text()
    model_mtime = (run / "final_model" / "config.json").stat().st_mtime_ns
    proc = train(f"output_dir={run}", cwd=work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{run} is already complete (step 1); nothing to do" in proc.stderr
    assert (run / "eval.jsonl").read_text() == evals  # no repeated final evaluation
    assert (run / "final_model" / "config.json").stat().st_mtime_ns == model_mtime  # no re-export


def test_another_configuration_is_refused_naming_the_keys_and_the_record_is_untouched(finished):
    work, run = finished
    record = (run / "run_config.json").read_text()
    proc = train(f"output_dir={run}", "trainer.lr=0.5", "method.clip_high=0.3", cwd=work)
    assert proc.returncode == 2
    lines = _err_lines(proc)
    assert len(lines) == 1 and lines[0].startswith(f"error: {run} holds a run with another configuration: ")
    assert "method.clip_high (0.2 -> 0.3)" in lines[0] and "trainer.lr (0.001 -> 0.5)" in lines[0]
    assert (run / "run_config.json").read_text() == record
    smaller = train(f"output_dir={run}", "trainer.steps=0", cwd=work)
    assert smaller.returncode == 2 and "trainer.steps must be >= 1" in smaller.stderr


def test_a_failing_command_leaves_a_finished_runs_record_alone(finished):
    work, run = finished
    record = (run / "run_config.json").read_text()
    proc = train(f"output_dir={run}", "trainer.device=cuda", cwd=work)
    assert proc.returncode == 2
    assert _err_lines(proc) == [
        "error: trainer.device=cuda but torch sees no CUDA device; use trainer.device=cpu"
    ]
    assert (run / "run_config.json").read_text() == record


def test_the_default_run_name_shows_the_settings_that_differ(tmp_path):
    """Without run_name/output_dir, a changed setting gets its own folder instead of the default run's."""
    proc = train("method=resrl", "method.rank=4", "trainer.lr=0.002", "trainer.steps=1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = sorted(p.name for p in (tmp_path / "results" / "runs").iterdir())
    assert len(runs) == 1 and runs[0].startswith("resrl-tiny-qwen3-arith_"), (
        runs
    )  # not the default run's folder
    assert "rank4" in runs[0] and "lr0.002" in runs[0] and "maxnewtokens4" in runs[0]


def test_files_honour_the_umask(finished):
    _, run = finished
    private = [
        str(p)
        for p in run.rglob("*")
        if not p.name.startswith(".")
        and stat.S_IMODE(p.stat().st_mode) not in ((0o755,) if p.is_dir() else (0o644, 0o755))
    ]
    assert not private, private
    assert stat.S_IMODE((run / "final_model" / "model.safetensors").stat().st_mode) == 0o644


def test_a_second_process_on_the_same_run_folder_is_refused(tmp_path):
    run = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "resrl.train", *BASE, f"output_dir={run}", "trainer.steps=3"],
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while not (run / ".lock").exists() or not (run / ".lock").read_text():
            assert first.poll() is None and time.time() < deadline, "the first run did not start"
            time.sleep(0.2)
        second = train(f"output_dir={run}", "trainer.steps=3", cwd=tmp_path)
        assert second.returncode == 2
        lines = _err_lines(second)
        assert len(lines) == 1 and f"is in use by another process (pid {first.pid} on " in lines[0]
    finally:
        first.kill()
        first.wait()


def test_checkpoints_are_removed_after_the_export_when_asked(tmp_path):
    proc = train(f"output_dir={tmp_path / 'run'}", "trainer.clean_checkpoints_when_done=true", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (tmp_path / "run" / "checkpoints").exists() and (tmp_path / "run" / "final_model").is_dir()
    assert json.loads((tmp_path / "run" / "complete.json").read_text())["step"] == 1
    assert REPO_ROOT.exists()
