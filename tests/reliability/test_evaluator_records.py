"""Evaluation records that cannot lie (issue "Records that cannot lie"):

- stored samples are reused only when the same model (by content, not by path) drew them under the same sampling
  settings; otherwise the run stops with one line naming what changed (or ``overwrite=true`` samples again);
- one evaluator process per run: a second one exits with status 2 and one line naming the holder's pid;
- every file and folder an evaluation and the figure scripts write has the umask's mode.

All with the tiny random Qwen3 (``tiny-qwen3``) and a few tokens; CLI behaviour through real subprocesses.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from resrl.paths import REPO_ROOT

TINY_ARGS = (
    "benchmarks=[arith]",
    "limit=1",
    "n=2",
    "max_new_tokens=4",
    "engine=hf",
    "device=cpu",
    "n_boot=10",
    "grader.workers=1",
)


def _save_tiny(folder: Path, seed: int) -> Path:
    """A save_pretrained folder of the tiny random Qwen3 drawn with ``seed`` (another seed: another model)."""
    from resrl.models import ModelSpec, get_model_spec, load_policy

    spec = get_model_spec("tiny-qwen3")
    model, tok = load_policy(ModelSpec(**{**spec.__dict__, "seed": seed}))
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", **extra}
    env.pop("RESRL_TRACEBACK", None)
    return env


def _cli(module: str, *args: str, cwd: Path, umask: int | None = None, timeout: int = 300):
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
    )


def _math_cfg(results: Path, checkpoint: str, **kw):
    from evaluators.math.config import GraderConfig, MathEvalConfig

    base = dict(
        checkpoint=checkpoint,
        benchmarks=["arith"],
        limit=1,
        n=2,
        max_new_tokens=4,
        engine="hf",
        device="cpu",
        n_boot=10,
        run_name="same-run",
        results_dir=str(results),
        grader=GraderConfig(timeout_s=2.0, workers=1),
    )
    return MathEvalConfig(**{**base, **kw})


# ------------------------------------------------------------------------------------------------ item 1
def test_another_model_saved_at_the_same_path_is_not_reused(tmp_path):
    """It got new_samples: 0 and the old model's numbers. Now: refused naming the model's content; a copy of the
    same model elsewhere is the same model; overwrite=true samples again."""
    import evaluators.math.run as run_mod

    folder = _save_tiny(tmp_path / "final_model", seed=0)
    first = run_mod.run(_math_cfg(tmp_path / "res", str(folder)))
    assert first["timings"]["new_samples"] == 2

    copy = tmp_path / "elsewhere" / "final_model"  # same bytes, another path: reused
    copy.parent.mkdir()
    shutil.copytree(folder, copy)
    same = run_mod.run(_math_cfg(tmp_path / "res", str(copy)))
    assert same["timings"]["new_samples"] == 0

    _save_tiny(folder, seed=1)  # another model at the same path
    with pytest.raises(
        ValueError,
        match=r"different \['model\.content'\] .*use another run_name=, or "
        r"overwrite=true",
    ):
        run_mod.run(_math_cfg(tmp_path / "res", str(folder)))
    fp0 = json.loads(Path(first["info_path"]).read_text())["model_fingerprint"]
    again = run_mod.run(_math_cfg(tmp_path / "res", str(folder), overwrite=True))
    assert again["timings"]["new_samples"] == 2
    assert json.loads(Path(again["info_path"]).read_text())["model_fingerprint"] != fp0
    # and a sampling setting that changes samples is named too
    with pytest.raises(ValueError, match=r"different \['top_p'\] \(top_p: 0\.95 -> 0\.5\)"):
        run_mod.run(_math_cfg(tmp_path / "res", str(folder), top_p=0.5))


def test_changed_model_is_one_line_on_the_command_line(tmp_path):
    folder = _save_tiny(tmp_path / "final_model", seed=0)
    args = (f"checkpoint={folder}", *TINY_ARGS, "run_name=r", f"results_dir={tmp_path / 'res'}")
    assert _cli("evaluators.math", *args, cwd=tmp_path).returncode == 0
    _save_tiny(folder, seed=1)
    proc = _cli("evaluators.math", *args, cwd=tmp_path)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "model.content" in lines[0] and "overwrite=true" in lines[0]


def test_code_evaluator_refuses_samples_of_another_model(tmp_path, monkeypatch):
    """The code evaluator had no check at all: any stored sample was reused."""
    from evaluators.code import run as code_run
    from evaluators.code.__main__ import CLI

    compose = CLI.compose
    from resrl.rollout.base import Rollout

    class Scripted:
        def __init__(self, cfg):
            self.engine, self.device, self.load_seconds = "scripted", "cpu", 0.0

        def prompt(self, task):
            return task.id

        def generate(self, prompts, n, seed):
            return [Rollout(p, s, [0], [1], "no code") for p in range(len(prompts)) for s in range(n)]

    monkeypatch.setattr(code_run, "LazySampler", Scripted)
    monkeypatch.setenv("RESRL_CACHE_DIR", str(tmp_path / "cache"))
    folder = _save_tiny(tmp_path / "final_model", seed=0)
    args = [
        "benchmark=humaneval_plus",
        f"checkpoint={folder}",
        "limit=1",
        "n=1",
        "n_boot=10",
        "run_name=r",
        f"results_dir={tmp_path}",
    ]
    assert code_run.run(compose(args))["timings"]["new_samples"] == 1
    assert code_run.run(compose(args))["timings"]["new_samples"] == 0  # same model: resumed
    with pytest.raises(ValueError, match=r"different \['temperature'\]"):
        code_run.run(compose([*args, "temperature=1.0"]))
    _save_tiny(folder, seed=1)
    with pytest.raises(ValueError, match=r"different \['model\.content'\]"):
        code_run.run(compose(args))
    assert code_run.run(compose([*args, "overwrite=true"]))["timings"]["new_samples"] == 1


# ------------------------------------------------------------------------------------------------ item 2
def test_second_evaluator_on_a_run_exits_2_naming_the_holder(tmp_path):
    """Two processes writing one run's samples would interleave; the second one now stops at once."""
    from resrl.records import exclusive_lock

    res = tmp_path / "res"
    with exclusive_lock(res / "samples" / "base-tiny-qwen3" / ".lock", what="test holder"):
        proc = _cli(
            "evaluators.math", "checkpoint=tiny-qwen3", *TINY_ARGS, f"results_dir={res}", cwd=tmp_path
        )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert (
        lines[0].startswith("error: evaluation run base-tiny-qwen3 is in use by another process")
        and f"pid {os.getpid()}" in lines[0]
    )
    assert not list((res / "samples" / "base-tiny-qwen3").glob("*.jsonl"))  # nothing written
    # the same command, once the holder is gone, runs
    assert (
        _cli(
            "evaluators.math", "checkpoint=tiny-qwen3", *TINY_ARGS, f"results_dir={res}", cwd=tmp_path
        ).returncode
        == 0
    )


def test_code_evaluator_locks_its_benchmark_of_the_run(tmp_path):
    from resrl.records import exclusive_lock

    res = tmp_path / "res"
    with exclusive_lock(res / "samples" / "r" / ".humaneval_plus.lock"):
        proc = _cli(
            "evaluators.code",
            "benchmark=humaneval_plus",
            "model=tiny-qwen3",
            "limit=1",
            "n=1",
            "run_name=r",
            f"results_dir={res}",
            cwd=tmp_path,
        )
    assert (
        proc.returncode == 2 and f"pid {os.getpid()}" in proc.stderr and len(proc.stderr.splitlines()) == 1
    ), proc.stderr


def test_the_lock_is_held_while_samples_are_written(tmp_path, monkeypatch):
    """In process: while the run samples, another writer of the same run is refused; after it, it is free."""
    import evaluators.math.run as run_mod
    from resrl.records import FolderLocked, exclusive_lock

    lock = tmp_path / "samples" / "same-run" / ".lock"
    real = run_mod.LazySampler.generate
    seen = []

    def generate(self, prompts, n, seed):
        with pytest.raises(FolderLocked, match=f"pid {os.getpid()}"), exclusive_lock(lock):
            pass
        seen.append(seed)
        return real(self, prompts, n, seed)

    monkeypatch.setattr(run_mod.LazySampler, "generate", generate)
    run_mod.run(_math_cfg(tmp_path, "tiny-qwen3"))
    assert seen
    with exclusive_lock(lock):  # released
        pass


# ------------------------------------------------------------------------------------------------ item 3
def _modes(root: Path) -> tuple[dict[str, int], dict[str, int]]:
    files, folders = {}, {}
    for p in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        (folders if p.is_dir() else files)[str(p.relative_to(root))] = mode
    return files, folders


@pytest.mark.parametrize("umask,file_mode,dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_evaluation_and_figures_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    res = tmp_path / "res"
    proc = _cli(
        "evaluators.math",
        "checkpoint=tiny-qwen3",
        *TINY_ARGS,
        "run_name=m",
        f"results_dir={res}",
        cwd=tmp_path,
        umask=umask,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = res / "metrics" / "m" / "metrics.csv"
    figures = tmp_path / "figures"
    for module, args in (
        ("paper_figures.passk", ("--metrics", str(metrics), "--out", str(figures / "passk"))),
        ("paper_figures.table1", ("--metrics", str(metrics), "--out", str(figures / "table1"))),
    ):
        proc = _cli(module, *args, cwd=tmp_path, umask=umask)
        assert proc.returncode == 0, proc.stderr
    for root in (res, figures):
        files, folders = _modes(root)
        assert files and all(m == file_mode for m in files.values()), {k: oct(v) for k, v in files.items()}
        assert all(m == dir_mode for m in folders.values()), {k: oct(v) for k, v in folders.items()}
    assert {
        "metrics/m/metrics.csv",
        "metrics/m/run_info.json",
        "samples/m/arith.jsonl",
        "samples/m/sampling.json",
    } <= set(_modes(res)[0])
    assert {"passk.png", "passk.pdf", "table1.md", "table1.tex"} <= set(_modes(figures)[0])
