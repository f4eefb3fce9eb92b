"""Normalise the six raw math benchmark files into ``data/math/<name>.jsonl`` (fields id, problem, answer, source).

Re-runnable and deterministic: ``python -m evaluators.math.prepare_data [--raw ../shared/data] [--out data/math]``.
The raw files are the byte-for-byte copies listed in ``../shared/data/SOURCES.md``; their origins and
licences are kept in ``data/math/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

from evaluators.common.atomic import atomic_write_text
from evaluators.math.benchmarks import SCHEMA_FIELDS, math_data_dir
from evaluators.math.extract import last_boxed_content
from resrl.paths import REPO_ROOT

DEFAULT_RAW = REPO_ROOT.parent / "shared" / "data"
QWEN = "QwenLM/Qwen2.5-Math@a45202bd16f1ec06f433442dc1152d0074773465"


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"raw benchmark file not found: {path} (see ../shared/data/SOURCES.md)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _num_to_str(x) -> str:
    """27.0 -> "27"; 2.5 -> "2.5"; strings are stripped."""
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() else repr(x)
    return str(x).strip()


def _row(id_: str, problem: str, answer: str, source: str) -> dict:
    return dict(zip(SCHEMA_FIELDS, (id_, problem.strip(), answer.strip(), source), strict=True))


def aime24(raw: Path) -> list[dict]:
    src = f"{QWEN}:evaluation/data/aime24/test.jsonl"
    return [
        _row(f"aime24-{r['id']}", r["problem"], _num_to_str(r["answer"]), src)
        for r in _jsonl(raw / "aime24/test.jsonl")
    ]


def aime25(raw: Path) -> list[dict]:
    src = "ZhangShimin1/PassKEval@4a1495c890778fc3f477853e13db03cc5ec772c2:data/aime2025/test.jsonl"
    return [
        _row(f"aime25-{r['id']}", r["problem"], _num_to_str(r["answer"]), src)
        for r in _jsonl(raw / "aime25/test.jsonl")
    ]


def amc23(raw: Path) -> list[dict]:
    src = f"{QWEN}:evaluation/data/amc23/test.jsonl"
    return [
        _row(f"amc23-{r['id']}", r["problem"], _num_to_str(r["answer"]), src)
        for r in _jsonl(raw / "amc23/test.jsonl")
    ]


def math500(raw: Path) -> list[dict]:
    src = "hkust-nlp/simpleRL-reason@cf1c7858bfc145a27aa733e75d930d34f0d318a6:examples/simplelr_math_eval/data/math500/test.jsonl"
    rows = []
    for r in _jsonl(raw / "math500/test.jsonl"):
        uid = r["unique_id"].removesuffix(".json")  # e.g. test/precalculus/807
        rows.append(_row(f"math500-{uid}", r["problem"], r["answer"], src))
    return rows


_PY_FUNC_RE = re.compile(r"\bnp\.(arcsin|arccos|arctan|sin|cos|tan|exp|log|sqrt)\b")
_PY_FLOAT_DIV_RE = re.compile(r"(\d)\./")


def _python_to_latex(s: str) -> str:
    """Two Python-isms in Minerva's boxed answers: ``np.arcsin(x)`` -> ``\\arcsin(x)``, ``-1./3`` -> ``-1/3``."""
    return _PY_FLOAT_DIV_RE.sub(r"\1/", _PY_FUNC_RE.sub(r"\\\1", s))


def minerva(raw: Path) -> list[dict]:
    """Answer: the last ``\\boxed{}`` of the Qwen2.5-Math solution (what the Qwen2.5-Math and simpleRL
    evaluation scripts grade against), replaced by rLLM's cleaned LaTeX for the same problem when the grader
    finds the two equivalent (``4.5e33`` -> ``4.5 \\times 10^{33}``). rLLM's list is not used otherwise:
    for multi-part problems it often holds the answer of an earlier sub-problem quoted in the problem text
    (e.g. 4.4e7 ferrets where the question asks for the doubling time, 0.53 years)."""
    from evaluators.math.grader import check_answer

    qwen = _jsonl(raw / "minerva_math/test.jsonl")
    rllm_path = raw / "minerva_math/rllm_minerva.json"
    rllm = {}
    if rllm_path.is_file():
        rllm = {r["problem"]: r for r in json.loads(rllm_path.read_text(encoding="utf-8"))}
    src_q = f"{QWEN}:evaluation/data/minerva_math/test.jsonl"
    src_r = "agentica-project/rllm@874daa4acb7f451dc2a4b2b6e8ce28f5aa88d1f5:rllm/data/test/math/minerva.json"
    rows = []
    for r in qwen:
        boxed = last_boxed_content(r["solution"])
        if boxed is None:
            raise ValueError(f"minerva idx {r['idx']}: no \\boxed{{}} in the solution")
        boxed = _python_to_latex(boxed)
        answer, src = boxed, src_q
        alt = rllm.get(r["problem"])
        for cand in (a.strip() for a in (alt or {}).get("answer", [])):
            if cand and check_answer(cand, boxed, timeout_s=10.0):
                answer, src = cand, f"{src_q} (problem, answer); {src_r} (answer written as LaTeX)"
                break
        rows.append(_row(f"minerva-{r['idx']}", r["problem"], answer, src))
    return rows


def olympiad(raw: Path) -> list[dict]:
    """OlympiadBench OE_TO_maths_en_COMP: final_answer[0] with the ``$`` delimiters removed."""
    src = f"{QWEN}:evaluation/data/olympiadbench/test.jsonl"
    rows = []
    for r in _jsonl(raw / "olympiadbench/test.jsonl"):
        problem = r["question"] if not r.get("context") else f"{r['context']}\n\n{r['question']}"
        answer = ", ".join(a.replace("$", "").strip() for a in r["final_answer"])
        rows.append(_row(f"olympiad-{r['id']}", problem, answer, src))
    return rows


CONVERTERS: dict[str, Callable[[Path], list[dict]]] = {
    "aime24": aime24,
    "aime25": aime25,
    "amc23": amc23,
    "math500": math500,
    "minerva": minerva,
    "olympiad": olympiad,
}


def prepare(
    raw: Path = DEFAULT_RAW, out: Path | None = None, names: list[str] | None = None
) -> dict[str, int]:
    """Write the normalised files; returns {benchmark: rows}."""
    out = Path(out or math_data_dir())
    counts = {}
    for name in names or list(CONVERTERS):
        rows = CONVERTERS[name](Path(raw))
        ids = [r["id"] for r in rows]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: duplicate ids after normalisation")
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        atomic_write_text(out / f"{name}.jsonl", text)
        counts[name] = len(rows)
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--raw", type=Path, default=DEFAULT_RAW, help="folder with the raw copies (../shared/data)"
    )
    ap.add_argument("--out", type=Path, default=None, help="output folder (default data/math)")
    ap.add_argument("--only", nargs="*", choices=sorted(CONVERTERS), default=None)
    args = ap.parse_args(argv)
    for name, n in prepare(args.raw, args.out, args.only).items():
        print(f"{name}: {n} problems")


if __name__ == "__main__":
    main()
