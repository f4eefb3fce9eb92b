"""Cut a raw generated token sequence at EOS or at the first stop string (shared by the rollout engines)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass


@dataclass
class Truncated:
    """A response after truncation: ``ids``/``logprobs`` have the same length."""

    ids: list[int]
    logprobs: list[float]
    text: str
    finish_reason: str


def _first_stop(text: str, stop: Sequence[str]) -> tuple[int, str] | None:
    """(start index, stop string) of the stop string that starts earliest in ``text``, or None."""
    hits = [(text.find(s), s) for s in stop if s and s in text]
    return min(hits, key=lambda h: (h[0], -len(h[1]))) if hits else None


def truncate_response(
    ids: Sequence[int],
    logprobs: Sequence[float],
    eos_ids: Collection[int],
    stop: Sequence[str],
    decode: Callable[[Sequence[int]], str],
) -> Truncated:
    """Apply the end-of-response rules to one raw generation.

    1. Everything after the first EOS token is dropped; the EOS token itself is kept (with its log-prob), so
       the trainer also reinforces stopping. ``decode`` should skip special tokens, so it is not in ``text``.
    2. If a stop string occurs in the decoded text before that, the tokens are cut after the shortest prefix
       whose text contains it (the token that completed it is kept: tokens cannot be split), and the text
       is cut right after the stop string (the stop string is kept, like vLLM's
       ``include_stop_str_in_output=True``). Text that the last kept token adds beyond the stop string is
       dropped from ``text`` only.
    3. ``finish_reason`` is ``"stop"`` for EOS or a stop string, else ``"length"``.
    """
    if len(ids) != len(logprobs):
        raise ValueError(f"{len(ids)} token ids but {len(logprobs)} log-probs")
    end = next((i + 1 for i, t in enumerate(ids) if t in eos_ids), None)
    cand = list(ids[:end]) if end is not None else list(ids)
    if stop:
        full = decode(cand)
        if _first_stop(full, stop) is not None:
            # Shortest prefix whose text contains a stop string (decoded text grows with the prefix).
            lo, hi = 1, len(cand)
            while lo < hi:
                mid = (lo + hi) // 2
                if _first_stop(decode(cand[:mid]), stop) is not None:
                    hi = mid
                else:
                    lo = mid + 1
            text = decode(cand[:lo])
            hit = _first_stop(text, stop)
            assert hit is not None
            start, s = hit
            return Truncated(cand[:lo], list(logprobs[:lo]), text[: start + len(s)], "stop")
    text = decode(cand)
    reason = "stop" if end is not None else "length"
    return Truncated(cand, list(logprobs[: len(cand)]), text, reason)
