"""Key/value caches kept across the turns of multi-turn episodes (``HFSampler.generate_from_ids`` with a
:class:`PrefixCache`): a turn's prompt is the previous turn's prompt, the reply and the environment's new tokens,
so the model only needs to run on the new tokens.

One entry per episode key: the token ids whose keys and values are cached, and per layer ``K``/``V``
``[heads, L, head_dim]`` for those ids. A batch of prompts is laid out as

    row i:  [pad ... pad | cached prefix_i (P_i) ] [ pad ... pad | new tokens_i (s_i) ]
             <----------- Lc = max P_i ----------> <------------ S = max s_i -------->

with the attention mask 0 on every pad, so the model's positions (the cumulative sum of the mask) are those of the
unpadded sequence and each row attends to exactly its own tokens: the same computation as a full prefill of the
prompt, up to floating-point summation order. ``generate`` is given the first ``Lc`` columns as its cache and runs on
the other ``S`` and on what it samples. A prompt without a cached prefix gets ``P_i = 0``.

After the turn, each row's cache is cut back to its real tokens: the prompt and the reply's tokens that were fed to
the model (all but the last sampled one, whose keys were never computed), and stored under its key.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import torch


@dataclass
class CachedPrefix:
    ids: tuple[int, ...]  # the token ids the keys and values belong to
    layers: list[tuple[torch.Tensor, torch.Tensor]]  # per layer (K, V), each [heads, len(ids), head_dim]


class PrefixCache:
    """Per-episode caches, keyed by the caller (an episode's index in ``run_episodes``)."""

    def __init__(self) -> None:
        self.entries: dict[Hashable, CachedPrefix] = {}
        self.reused_tokens = 0  # tokens whose prefill was skipped (for benchmarks and tests)

    def prefix_for(self, key: Hashable, prompt: Sequence[int]) -> CachedPrefix | None:
        """The cached entry of ``key`` when its ids are a proper prefix of ``prompt``, else None."""
        entry = self.entries.get(key)
        if entry is None or len(entry.ids) >= len(prompt) or tuple(prompt[: len(entry.ids)]) != entry.ids:
            return None
        return entry


@dataclass
class CachedBatch:
    input_ids: torch.Tensor  # [B, Lc + S] long
    attention_mask: torch.Tensor  # [B, Lc + S] long
    past: (
        list[tuple[torch.Tensor, torch.Tensor]] | None
    )  # per layer [B, heads, Lc, head_dim]; None when Lc = 0
    prefix_lens: list[int]


def layout(
    prompts: Sequence[Sequence[int]],
    prefixes: Sequence[CachedPrefix | None],
    pad_id: int,
    device: torch.device,
) -> CachedBatch:
    """The batch layout of the module docstring for ``prompts`` with their cached ``prefixes``."""
    lens = [len(p.ids) if p is not None else 0 for p in prefixes]
    lc = max(lens)
    s = max(len(q) - n for q, n in zip(prompts, lens, strict=True))
    b = len(prompts)
    input_ids = torch.full((b, lc + s), pad_id, dtype=torch.long)
    mask = torch.zeros((b, lc + s), dtype=torch.long)
    for i, (q, n) in enumerate(zip(prompts, lens, strict=True)):
        if n:
            input_ids[i, lc - n : lc] = torch.tensor(q[:n], dtype=torch.long)
            mask[i, lc - n : lc] = 1
        rest = q[n:]
        input_ids[i, lc + s - len(rest) :] = torch.tensor(rest, dtype=torch.long)
        mask[i, lc + s - len(rest) :] = 1
    past = None
    if lc:
        ref = next(p for p in prefixes if p is not None).layers
        past = []
        for layer, (k0, v0) in enumerate(ref):
            k = k0.new_zeros((b, k0.shape[0], lc, k0.shape[2]))
            v = v0.new_zeros((b, v0.shape[0], lc, v0.shape[2]))
            for i, p in enumerate(prefixes):
                if p is not None:
                    k[i, :, lc - lens[i] :] = p.layers[layer][0]
                    v[i, :, lc - lens[i] :] = p.layers[layer][1]
            past.append((k.to(device), v.to(device)))
    return CachedBatch(input_ids.to(device), mask.to(device), past, lens)


def store(
    cache: PrefixCache,
    keys: Sequence[Hashable],
    prompts: Sequence[Sequence[int]],
    replies: Sequence[Sequence[int]],
    prompt_mask: torch.Tensor,
    layers: Sequence[tuple[torch.Tensor, torch.Tensor]],
) -> None:
    """Cache each row's prompt and fed reply tokens under its key. ``prompt_mask``: [B, W] the layout's attention
    mask (W = Lc + S); ``layers``: per layer (K, V) [B, heads, W + fed, head_dim] after generation."""
    width = prompt_mask.shape[1]
    fed = layers[0][0].shape[2] - width  # generated tokens whose keys were computed
    for i, key in enumerate(keys):
        kept = list(replies[i][:fed])
        cols = torch.cat(
            [
                prompt_mask[i].bool().nonzero().squeeze(1).to(layers[0][0].device),
                torch.arange(width, width + len(kept), device=layers[0][0].device),
            ]
        )
        cache.entries[key] = CachedPrefix(
            tuple(list(prompts[i]) + kept),
            [(k[i, :, cols].clone(), v[i, :, cols].clone()) for k, v in layers],
        )
