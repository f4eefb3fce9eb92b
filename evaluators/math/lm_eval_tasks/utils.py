"""lm-evaluation-harness hooks for the ResRL math tasks: the project's data files, prompt and grader.

Used from the YAML files in this folder via ``!function utils.<name>``; needs the project importable
(``pip install -e .`` in the environment that runs ``lm_eval``).
"""

from __future__ import annotations

import math

from evaluators.math.benchmarks import load_benchmark
from evaluators.math.grader import is_correct
from evaluators.math.prompting import PromptConfig, build_messages
from evaluators.metrics import pass_at_k

#: k values reported as pass_at_<k> (NaN when a run has fewer than k repeats).
PASS_KS = (1, 2, 4, 8, 16, 32, 64, 128)


def load_dataset(benchmark: str, limit: int | None = None, **_ignored):
    """``custom_dataset`` hook: ``data/math/<benchmark>.jsonl`` as a ``DatasetDict`` with a ``test`` split."""
    import datasets

    rows = [
        {"id": p.id, "problem": p.problem, "answer": p.answer, "source": p.source}
        for p in load_benchmark(benchmark, limit=limit)
    ]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def doc_to_text(doc: dict) -> str:
    """The user turn of the math evaluator's default prompt (DAPO-Math's "Answer:" wrapper,
    ``experiments/benchmark/prompt/dapo.yaml``); ``--apply_chat_template`` wraps it in the model's chat template."""
    return build_messages(doc["problem"], PromptConfig())[-1]["content"]


def keep_all_repeats(resps, docs):
    """Filter (``function: custom``): keep the list of all repeats of every document."""
    return resps


def process_results(doc: dict, results: list) -> dict[str, float]:
    """Grade every repeat of one problem: ``avg_at_n`` (mean correctness) and unbiased ``pass_at_<k>``.

    ``results[0]`` is the list of the problem's responses (filter ``keep_all_repeats``) or one response
    string (a single repeat, or lm-eval's default ``take_first`` filter).
    """
    responses = results[0]
    if isinstance(responses, str):
        responses = [responses]
    n = len(responses)
    c = sum(bool(is_correct(r, doc["answer"])) for r in responses)
    out = {"avg_at_n": c / n}
    for k in PASS_KS:
        out[f"pass_at_{k}"] = pass_at_k(n, c, k) if k <= n else math.nan
    return out
