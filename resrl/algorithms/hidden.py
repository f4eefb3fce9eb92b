"""Capture one layer's hidden states with a forward hook, in the same forward that computes log-probs.

``output_hidden_states=True`` keeps every layer's activations alive; ResRL needs only one. The layer is
addressed like an index into Hugging Face's ``hidden_states`` tuple of length ``L + 1``: ``0`` is the
embedding output, ``i`` in ``1..L-1`` the output of decoder layer ``i - 1``, and ``L`` (= ``-1``) the
final-norm output. ``-2`` (the paper's penultimate layer) is thus the output of decoder layer ``L - 2``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def _decoder_parts(model: nn.Module) -> tuple[nn.Module, nn.ModuleList, nn.Module]:
    """(embedding, decoder layers, final norm) of a Hugging Face decoder-only model."""
    base = getattr(model, "model", model)
    layers = getattr(base, "layers", None)
    embed = getattr(base, "embed_tokens", None)
    norm = getattr(base, "norm", None)
    if layers is None or embed is None or norm is None:
        raise TypeError(
            f"{type(model).__name__}: expected .model.embed_tokens/.layers/.norm (a Llama/Qwen-style decoder)"
        )
    return embed, layers, norm


def resolve_layer(model: nn.Module, layer: int) -> nn.Module:
    """The module whose output equals ``hidden_states[layer]``."""
    embed, layers, norm = _decoder_parts(model)
    total = len(layers) + 1
    idx = layer + total if layer < 0 else layer
    if not 0 <= idx < total:
        raise ValueError(
            f"layer {layer} out of range for a model with {len(layers)} layers (valid: {-total}..{total - 1})"
        )
    if idx == 0:
        return embed
    if idx == total - 1:
        return norm
    return layers[idx - 1]


@contextmanager
def capture_hidden(model: nn.Module, layer: int = -2) -> Iterator[dict[str, torch.Tensor]]:
    """Context manager; after a forward, ``box["hidden"]`` holds ``hidden_states[layer]`` [B, T, H].

    The tensor keeps its autograd graph (callers detach it when they only need values).
    """
    box: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor | tuple) -> None:
        box["hidden"] = output[0] if isinstance(output, tuple) else output

    handle = resolve_layer(model, layer).register_forward_hook(hook)
    try:
        yield box
    finally:
        handle.remove()
