"""DeepCoder as a training task (paper Sec. 4: code policies trained on the DeepCoder dataset, Luo et al. 2025).

``experiments/task/deepcoder.yaml`` names :func:`load_deepcoder` and :func:`deepcoder_reward` (``kind: problems``,
:mod:`resrl.tasks.problem_task`); ``deepcoder_tiny.yaml`` is the offline stand-in over ``data/deepcoder_tiny/``.

Data: ``agentica-org/DeepCoder-Preview-Dataset`` (Hugging Face, MIT licence), training configs ``primeintellect``,
``taco`` and ``lcbv5`` (train split), as rLLM's ``prepare_deepcoder_data.py`` uses them. A row holds ``problem``,
``tests`` (JSON; the format depends on the source, normalised here), ``starter_code`` and ``metadata`` (JSON,
``func_name`` for call-based problems). The loader reads the parquet files of a ``huggingface-cli download``
folder (``<config>/*.parquet``) or a JSON-lines file of the same rows.

Prompt: the code evaluator's own (``evaluators.code.prompting``: stdin or starter-code template), so a policy is
trained on the prompts it is evaluated with (rLLM wraps problems in LiveCodeBench's generic system message;
docs/fidelity.md). Reward: DeepCoder's sparse outcome, 1 when the last code block passes every test (at most
the 15 tests with the longest inputs, as rLLM's ``check_correctness``), else 0; no code block is 0. Programs run in
the hardened sandbox; training refuses its weaker fallback mode (no user namespaces) unless
``RESRL_SANDBOX_FALLBACK=allow`` opts in (a training run executes model-written code by the hundred thousand).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from evaluators.code.prompting import FUNCTIONAL_TEMPLATE, STDIN_TEMPLATE

DATASET = "agentica-org/DeepCoder-Preview-Dataset"
TRAIN_CONFIGS = ("primeintellect", "taco", "lcbv5")
MAX_TESTS = 15  # rLLM check_correctness(max_tests=15): the tests with the longest inputs
TIMEOUT_S = 6.0  # rLLM's LiveCodeBench path: 6 s per test
MEMORY_MB = 1024
FALLBACK_ENV = "RESRL_SANDBOX_FALLBACK"


def normalise_tests(raw: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    """DeepCoder's three test formats -> ``{"kind": "stdin"|"functional", "fn_name", "tests": [[input, output]]}``.

    taco: ``{"inputs": [...], "outputs": [...], "fn_name"?}``; primeintellect: ``[{"input", "output", "fn_name"?}]``;
    lcbv5: ``[{"input", "output", "testtype"}]`` with ``metadata["func_name"]`` for functional tests.
    """
    tests = json.loads(raw) if isinstance(raw, str) else raw
    if isinstance(tests, dict):  # taco; call-based inputs are argument lists, outputs one-element lists
        fn = tests.get("fn_name")
        pairs = list(zip(tests.get("inputs") or [], tests.get("outputs") or [], strict=False))
        if fn:
            pairs = [
                (
                    "\n".join(json.dumps(a) for a in i) if isinstance(i, list) else i,
                    o[0] if isinstance(o, list) and len(o) == 1 else o,
                )
                for i, o in pairs
            ]
    elif isinstance(tests, list) and tests:
        fn = tests[0].get("fn_name") or (
            metadata.get("func_name") if tests[0].get("testtype") == "functional" else None
        )
        pairs = [(t["input"], t["output"]) for t in tests]
    else:
        raise ValueError(f"unreadable tests: {str(raw)[:80]!r}")

    def text(v: Any) -> str:
        return v if isinstance(v, str) else json.dumps(v)

    pairs = [(text(i), text(o)) for i, o in pairs]
    pairs = (
        sorted(pairs, key=lambda p: len(p[0]), reverse=True)[:MAX_TESTS] if len(pairs) > MAX_TESTS else pairs
    )
    return {"kind": "functional" if fn else "stdin", "fn_name": fn, "tests": [list(p) for p in pairs]}


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.is_file():
        from resrl.records.jsonl import read_jsonl

        return read_jsonl(path)
    import pandas as pd

    files = sorted(f for c in TRAIN_CONFIGS for f in (path / c).glob("*train*.parquet"))
    if not files:
        raise FileNotFoundError(
            f"{path}: no {'/'.join(TRAIN_CONFIGS)} train parquet files (expected <config>/*.parquet)"
        )
    return [r for f in files for r in pd.read_parquet(f).to_dict("records")]


def load_deepcoder(path: Path, split: str) -> list[dict[str, Any]]:
    """The problems of ``path`` (module docstring) as ``kind: problems`` rows: prompt, answer = the JSON tests."""
    if split != "train":
        raise ValueError(f"DeepCoder training data has only a train split, not {split!r}")
    out = []
    for i, row in enumerate(_rows(Path(path))):
        meta = row.get("metadata") or {}
        meta = json.loads(meta) if isinstance(meta, str) else dict(meta)
        tests = normalise_tests(row["tests"], meta)
        starter = (row.get("starter_code") or "").strip()
        if tests["kind"] == "functional" and starter:
            prompt = FUNCTIONAL_TEMPLATE.format(statement=row["problem"].strip(), starter=starter)
        else:
            prompt = STDIN_TEMPLATE.format(statement=row["problem"].strip())
        out.append(
            {"id": str(row.get("id", f"deepcoder-{i}")), "prompt": prompt, "answer": json.dumps(tests)}
        )
    return out


def training_sandbox():
    """The sandbox settings of a training reward: namespace mode, or fallback only when the user opted in."""
    from evaluators.code.sandbox import SandboxConfig, detect_mode
    from evaluators.code.sandbox.settings import SandboxError

    mode = detect_mode()
    if mode != "namespace" and os.environ.get(FALLBACK_ENV) != "allow":
        raise SandboxError(
            "training executes model-written code, but the sandbox has no user namespaces here (fallback mode, "
            f"weaker isolation); run on a node with unprivileged user namespaces, or set {FALLBACK_ENV}=allow"
        )
    return SandboxConfig(mode=mode)


def deepcoder_reward(response: str, answer: str) -> float:
    """1.0 when the response's last code block passes every test of ``answer`` (JSON, :func:`normalise_tests`)."""
    from evaluators.code.livecodebench import LCBProblem, LCBTest, grade_program
    from evaluators.code.sanitize import strip_thinking

    if "```" not in strip_thinking(response):
        return 0.0  # rLLM: no code block, reward 0
    spec = json.loads(answer)
    kind = spec["kind"]
    tests = tuple(LCBTest(i, o, kind) for i, o in spec["tests"])
    starter = f"def {spec['fn_name']}(" if kind == "functional" else ""
    problem = LCBProblem(id="deepcoder", statement="", starter_code=starter, tests=tests)
    from evaluators.code.livecodebench import program_from_response

    verdict = grade_program(
        program_from_response(response), problem, TIMEOUT_S, MEMORY_MB, training_sandbox()
    )
    return 1.0 if verdict["correct"] else 0.0
