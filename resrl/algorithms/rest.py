"""ResT: token-level reweighting of the policy gradient for tool use (Lin et al. 2025, arXiv 2509.21826).

As the authors' release computes it (github.com/1229095296/ResT_Tool_use_LLM ``d6c29b5``,
``recipe/custom/token_weighting.py``; its weights are fixed per token category with a step schedule, not measured
entropies): each response character belongs to zero or more regions of ToolRL's output format,

- ``format``: the tags ``<think> </think> <tool_call> </tool_call> <response> </response>`` (weight 1.0);
- ``think``: the text inside ``<think>..</think>`` (``min(0.6 + 0.002 s, 1.0)`` at training step ``s``);
- ``name``: the value of a tool call's ``"name"`` (1.2);
- ``args``: a tool call's ``"parameters"`` / ``"arguments"`` object (``min(0.6 + 0.002 s, 1.2)``);

every other token weighs 0 (no gradient). A token takes the largest weight of the regions its characters touch.
Per sequence the positive weights are clamped to [0.001, 8] and divided by their mean, so they average 1 over
the weighted tokens; the loss is the weighted token mean ``sum(w m l) / sum(w m)`` of the clipped surrogate.

:func:`region_masks` works on text (character spans -> a bit mask per token); :func:`rest_token_weights` is the
tensor part.
"""

from __future__ import annotations

import re

import torch

FORMAT, THINK, NAME, ARGS = 1, 2, 4, 8  # region bits
TAGS = ("<think>", "</think>", "<tool_call>", "</tool_call>", "<response>", "</response>")
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_NAME = re.compile(r'"name"\s*:\s*("(?:[^"\\]|\\.)*")')
_ARGS = re.compile(r'"(?:parameters|arguments)"\s*:\s*\{')


def _object_end(text: str, start: int) -> int:
    """Index after the JSON object opening at ``text[start] == '{'`` (strings respected), or len(text)."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def char_regions(text: str) -> list[int]:
    """The region bits of every character of ``text``."""
    bits = [0] * len(text)

    def mark(lo: int, hi: int, bit: int) -> None:
        for i in range(lo, min(hi, len(text))):
            bits[i] |= bit

    for tag in TAGS:
        for m in re.finditer(re.escape(tag), text):
            mark(m.start(), m.end(), FORMAT)
    for m in _THINK.finditer(text):
        mark(m.start(1), m.end(1), THINK)
    for m in _NAME.finditer(text):
        mark(m.start(1), m.end(1), NAME)
    for m in _ARGS.finditer(text):
        brace = m.end() - 1
        mark(brace, _object_end(text, brace), ARGS)
    return bits


def region_masks(text: str, offsets: list[tuple[int, int]]) -> list[int]:
    """Per token (its character span ``[start, end)`` in ``text``), the OR of its characters' region bits."""
    bits = char_regions(text)
    out = []
    for start, end in offsets:
        m = 0
        for i in range(start, min(end, len(bits))):
            m |= bits[i]
        out.append(m)
    return out


def region_weights(step: int) -> dict[int, float]:
    """Each region's weight at training step ``step`` (the release's schedule)."""
    ramp = 0.6 + 0.002 * step
    return {FORMAT: 1.0, THINK: min(ramp, 1.0), NAME: 1.2, ARGS: min(ramp, 1.2)}


def rest_token_weights(
    masks: torch.Tensor, response_mask: torch.Tensor, step: int, clamp: tuple[float, float] = (1e-3, 8.0)
) -> torch.Tensor:
    """Token weights ``[B, T]`` float32 from region bit masks ``[B, T]`` (long) and the response mask ``[B, T]``:
    the largest weight of a token's regions, clamped, then divided by the sequence's mean positive weight."""
    w = torch.zeros(masks.shape, dtype=torch.float32, device=masks.device)
    for bit, value in region_weights(step).items():
        w = torch.where((masks & bit) != 0, torch.clamp(w, min=value), w)
    valid = response_mask.bool() & (w > 0)
    w = torch.where(valid, w.clamp(*clamp), torch.zeros_like(w))
    mean = w.sum(-1, keepdim=True) / valid.sum(-1, keepdim=True).clamp_min(1)
    return torch.where(valid, w / mean.clamp_min(1e-12), torch.zeros_like(w))
