"""Diversity of the responses sampled for one prompt, and Pass@k growth.

A response is a string (split on whitespace into words) or a sequence of tokens (e.g. token ids).

- distinct-n: distinct n-grams / all n-grams over the prompt's responses (NaN when no response has n units);
- final answers: ``extractor(text)`` (default: the content of the last ``\\boxed{}``), stripped; a missing
  answer (``None``) is one category of its own for the entropy and is not counted as a unique answer;
- answer entropy: ``-sum_a p(a) ln p(a)`` over the answer categories, in nats;
- edit similarity: ``1 - Levenshtein(a, b) / max(|a|, |b|)`` on units, averaged over all pairs. To bound the
  quadratic cost, each response is cut to its first ``max_units`` units (default 256) before comparing, so
  two responses that agree on their first 256 units count as identical;
- Pass@k for k = 1..n with the unbiased estimator (``evaluators.metrics.pass_at_k``), averaged over prompts;
  the growth is Pass@n - Pass@1.

:func:`diversity_from_samples` computes the same from evaluation sample rows (more samples per prompt than a
training group, so a cleaner Pass@k curve).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from resrl.tasks.rewards import last_boxed
from resrl.verifiers.passk import pass_at_k

Response = str | Sequence[Hashable]
Extractor = Callable[[str], str | None]


def units(response: Response) -> list[Hashable]:
    """Whitespace-split words of a string, or the tokens of a sequence."""
    return response.split() if isinstance(response, str) else list(response)


def distinct_n(responses: Sequence[Response], n: int) -> float:
    """Distinct n-grams / total n-grams over all responses (NaN when there is no n-gram)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    grams: list[tuple] = []
    for r in responses:
        u = units(r)
        grams.extend(tuple(u[i : i + n]) for i in range(len(u) - n + 1))
    return len(set(grams)) / len(grams) if grams else math.nan


def final_answers(texts: Sequence[str], extractor: Extractor | None = None) -> list[str | None]:
    """``extractor(text)`` (default: last ``\\boxed{}`` content) of each text, stripped; None when absent."""
    fn = extractor or last_boxed
    out = []
    for t in texts:
        a = fn(t)
        out.append(a.strip() if a is not None else None)
    return out


def unique_answers(answers: Sequence[str | None]) -> int:
    """Number of distinct non-missing answers."""
    return len({a for a in answers if a is not None})


def answer_entropy(answers: Sequence[str | None]) -> float:
    """Entropy in nats of the answer distribution (missing answers form one category); 0 for no answers."""
    if not answers:
        return 0.0
    counts = np.array(list(Counter(answers).values()), dtype=np.float64)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Edit distance (unit insert / delete / substitute) between two sequences; O(|a| |b|) time, O(|b|) memory.

    Row by row: substitutions and deletions vectorised, insertions by a running minimum
    (``cur[j] = min_{k <= j}(tmp[k] + j - k)``).
    """
    if len(a) < len(b):
        a, b = b, a
    if len(b) == 0:
        return len(a)
    vocab: dict[Hashable, int] = {}
    b_ids = np.array([vocab.setdefault(x, len(vocab)) for x in b], dtype=np.int64)
    a_ids = [vocab.setdefault(x, len(vocab)) for x in a]
    idx = np.arange(len(b) + 1, dtype=np.int64)
    prev = idx.copy()
    tmp = np.empty_like(prev)
    for i, x in enumerate(a_ids, start=1):
        tmp[0] = i
        np.minimum(prev[:-1] + (b_ids != x), prev[1:] + 1, out=tmp[1:])
        prev = np.minimum.accumulate(tmp - idx) + idx
    return int(prev[-1])


def edit_similarity(a: Response, b: Response, max_units: int | None = 256) -> float:
    """``1 - lev(a, b) / max(|a|, |b|)`` on units, after cutting both to ``max_units`` (None: no cut); 1 if both empty."""
    ua, ub = units(a), units(b)
    if max_units is not None:
        ua, ub = ua[:max_units], ub[:max_units]
    longest = max(len(ua), len(ub))
    return 1.0 if longest == 0 else 1.0 - levenshtein(ua, ub) / longest


def mean_pairwise_edit_similarity(responses: Sequence[Response], max_units: int | None = 256) -> float:
    """Mean :func:`edit_similarity` over all pairs of responses (NaN with fewer than two)."""
    pairs = list(combinations(responses, 2))
    if not pairs:
        return math.nan
    return float(np.mean([edit_similarity(a, b, max_units) for a, b in pairs]))


def pass_at_k_curve(correct: Sequence[Sequence[bool]], ks: Sequence[int] | None = None) -> dict[int, float]:
    """Mean unbiased Pass@k over prompts; ``correct[p][s]``: sample ``s`` of prompt ``p`` is right.

    ks defaults to 1..min_p n_p.
    """
    if not correct:
        raise ValueError("correct is empty: need at least one prompt")
    n_min = min(len(c) for c in correct)
    if n_min < 1:
        raise ValueError("every prompt needs at least one sample")
    ks = list(range(1, n_min + 1)) if ks is None else list(ks)
    bad = [k for k in ks if not 1 <= k <= n_min]
    if bad:
        raise ValueError(f"ks {bad} outside [1, {n_min}] (the smallest number of samples per prompt)")
    return {k: float(np.mean([pass_at_k(len(c), int(sum(map(bool, c))), k) for c in correct])) for k in ks}


def diversity_metrics(
    texts: Sequence[Sequence[str]],
    correct: Sequence[Sequence[bool]] | None = None,
    extractor: Extractor | None = None,
    max_n: int = 4,
    max_units: int | None = 256,
    tokens: Sequence[Sequence[Sequence[Hashable]]] | None = None,
) -> dict[str, float]:
    """Diversity of several prompts' responses, averaged over prompts (NaNs skipped).

    texts[p][s]: response ``s`` to prompt ``p``; correct: same shape, for Pass@k; tokens: optional token
    sequences (same shape) used instead of whitespace words for distinct-n and edit similarity.
    Keys: ``distinct_{n}``, ``unique_answers``, ``answer_entropy``, ``no_answer_frac``, ``edit_sim``,
    ``pass@{k}`` and ``pass_growth`` (when ``correct`` is given).
    """
    if tokens is not None and [len(t) for t in tokens] != [len(t) for t in texts]:
        raise ValueError("tokens must have the same shape as texts")
    per: dict[str, list[float]] = {}
    for p, group in enumerate(texts):
        seqs: Sequence[Response] = tokens[p] if tokens is not None else group
        for n in range(1, max_n + 1):
            per.setdefault(f"distinct_{n}", []).append(distinct_n(seqs, n))
        answers = final_answers(group, extractor)
        per.setdefault("unique_answers", []).append(float(unique_answers(answers)))
        per.setdefault("answer_entropy", []).append(answer_entropy(answers))
        per.setdefault("no_answer_frac", []).append(
            sum(a is None for a in answers) / len(answers) if answers else math.nan
        )
        per.setdefault("edit_sim", []).append(mean_pairwise_edit_similarity(seqs, max_units))
    out = {k: _nanmean(v) for k, v in per.items()}
    if correct is not None:
        curve = pass_at_k_curve(correct)
        out.update({f"pass@{k}": v for k, v in curve.items()})
        out["pass_growth"] = curve[max(curve)] - curve[1]
    return out


def diversity_from_samples(
    rows: Iterable[Mapping[str, Any]],
    extractor: Extractor | None = None,
    max_n: int = 4,
    max_units: int | None = 256,
) -> dict[str, float]:
    """:func:`diversity_metrics` of evaluation samples, e.g. the trainer's ``eval_samples/step_*.jsonl`` rows
    (``problem_id``, ``text``, ``correct``), grouped by ``problem_id`` in order of first appearance."""
    texts: dict[Any, list[str]] = {}
    correct: dict[Any, list[bool]] = {}
    for i, r in enumerate(rows):
        missing = [k for k in ("problem_id", "text", "correct") if k not in r]
        if missing:
            raise KeyError(f"sample row {i} lacks {missing} (needs problem_id, text, correct)")
        texts.setdefault(r["problem_id"], []).append(r["text"])
        correct.setdefault(r["problem_id"], []).append(bool(r["correct"]))
    if not texts:
        raise ValueError("no sample rows")
    keys = list(texts)
    return diversity_metrics(
        [texts[k] for k in keys], [correct[k] for k in keys], extractor, max_n, max_units
    )


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan
