"""ResT (Lin et al. 2025): GRPO with ResT's token weights (:mod:`resrl.algorithms.rest`), the tool-use baseline of
the paper's Table 4. The weights depend on the response text (ToolRL's format regions) and the training step: the
method asks the backend for them through :meth:`Method.token_features`."""

from __future__ import annotations

from typing import Any

import torch

from resrl.algorithms.rest import region_masks, rest_token_weights
from resrl.methods import register
from resrl.methods.base import Method, PolicyInputs


def token_offsets(tokenizer: Any, ids: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """The decoded text of ``ids`` and each token's character span in it. Tokens are decoded in runs that end on a
    whole character (a byte-level token may hold part of one: the run's tokens then share its span), so a response
    costs O(length), not O(length^2) as decoding every prefix would (this runs on every training response). A
    tokenizer whose pieces do not add up to its decoding of the whole (a context-dependent decoder) gets the
    prefix-by-prefix spans instead."""
    text, spans, start = "", [], 0
    for i in range(len(ids)):
        chunk = tokenizer.decode(ids[start : i + 1], skip_special_tokens=False)
        if chunk.endswith("\ufffd") and i + 1 < len(ids):  # part of a character: the next token completes it
            continue
        lo = len(text)
        text += chunk
        spans += [(lo, len(text))] * (i + 1 - start)
        start = i + 1
    if text == tokenizer.decode(ids, skip_special_tokens=False):
        return text, spans
    return _prefix_offsets(tokenizer, ids)


def _prefix_offsets(tokenizer: Any, ids: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """Spans from decoding every prefix (exact for any tokenizer, quadratic)."""
    spans, prev = [], ""
    for i in range(len(ids)):
        text = tokenizer.decode(ids[: i + 1], skip_special_tokens=False)
        if not text.startswith(prev):  # a merged multibyte character: the span covers the change
            common = len([1 for a, b in zip(prev, text, strict=False) if a == b])
            spans.append((common, len(text)))
        else:
            spans.append((len(prev), len(text)))
        prev = text
    return prev, spans


@register("rest")
class ResT(Method):
    """The clipped surrogate, each token's advantage scaled by its ResT weight, averaged over weighted tokens."""

    def token_features(self, tokenizer: Any, response_ids: list[list[int]], step: int, width: int) -> dict:
        rows = []
        for ids in response_ids:
            text, spans = token_offsets(tokenizer, list(ids))
            m = region_masks(text, spans)
            rows.append(m + [0] * (width - len(m)))
        host = torch.device("cpu")  # built on the host whatever the default device; the trainer moves them
        return {
            "rest_regions": torch.tensor(rows, dtype=torch.long, device=host),
            "step": torch.tensor(int(step), device=host),
        }

    def weights(self, batch: PolicyInputs) -> torch.Tensor:
        if "rest_regions" not in batch.extras:
            raise ValueError("ResT needs the token regions of the responses (Method.token_features)")
        regions = batch.extras["rest_regions"].to(batch.response_mask.device)
        return rest_token_weights(regions, batch.response_mask, int(batch.extras["step"]))

    def token_advantages(self, batch: PolicyInputs) -> torch.Tensor:
        return super().token_advantages(batch) * self.weights(batch)

    def loss(self, batch: PolicyInputs) -> tuple[torch.Tensor, dict[str, float]]:
        """The weighted token mean: token-mean over the weighted tokens of advantages scaled by the weights
        (``sum(w l) / sum(w)`` since the weights average 1 per sequence and the surrogate is linear in A >= 0
        scaling)."""
        from resrl.algorithms.grpo import clipped_policy_loss

        w = self.weights(batch)
        loss, metrics = clipped_policy_loss(
            batch.log_probs,
            batch.old_log_probs,
            super().token_advantages(batch) * w,
            batch.response_mask.bool() & (w > 0),
            self.cfg.policy_loss(),
            ref_log_probs=batch.ref_log_probs,
            entropy=batch.entropy,
        )
        metrics["rest/weighted_token_frac"] = float((w > 0).sum() / batch.response_mask.sum().clamp_min(1))
        return loss, metrics
