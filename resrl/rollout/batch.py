"""``collate``: rollouts -> padded training tensors (left-padded prompts, right-padded responses)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from resrl.rollout.base import Rollout


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions ``[B, L]`` (long) counting only real tokens, 0 on left padding; the same positions that
    ``generate`` used for a left-padded prompt and its continuation. ``attention_mask``: [B, L]."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def collate(
    rollouts: Sequence[Rollout], pad_id: int, device: str | torch.device | None = None
) -> dict[str, torch.Tensor]:
    """Pad ``B`` rollouts into one batch; ``P`` = longest prompt, ``T`` = longest response.

    Returns
      - ``input_ids`` [B, P+T] long: ``pad * (P - p_i) + prompt_i + response_i + pad * (T - r_i)``;
        every response starts at column ``P``, so the logits predicting it are ``logits[:, P-1:-1]``.
      - ``attention_mask`` [B, P+T] long: 1 on prompt and response tokens.
      - ``position_ids`` [B, P+T] long: ``position_ids_from_mask(attention_mask)``.
      - ``response_mask`` [B, T] float32: 1 on response tokens the policy generated: every response token of a
        single-turn rollout, ``action_mask`` of a multi-turn one (0 on environment tokens and padding). Every
        loss, advantage and ResRL token selection reads this mask, so environment tokens get no gradient.
      - ``old_logprobs`` [B, T] float32: the sampler's log-probs, 0 on padding.
      - ``prompt_lengths`` [B] long: unpadded prompt lengths ``p_i``; ``response_lengths`` [B] long: ``r_i``
        (all response tokens, environment tokens included).
    """
    if not rollouts:
        raise ValueError("collate needs at least one rollout")
    for k, r in enumerate(rollouts):
        if len(r.logprobs) != len(r.response_ids):
            raise ValueError(
                f"rollout {k}: {len(r.response_ids)} response tokens but {len(r.logprobs)} log-probs"
            )
    B = len(rollouts)
    P = max(len(r.prompt_ids) for r in rollouts)
    T = max(len(r.response_ids) for r in rollouts)
    cpu = torch.device("cpu")  # built on the host whatever the default device, then moved once
    input_ids = torch.full((B, P + T), pad_id, dtype=torch.long, device=cpu)
    attention_mask = torch.zeros((B, P + T), dtype=torch.long, device=cpu)
    response_mask = torch.zeros((B, T), dtype=torch.float32, device=cpu)
    old_logprobs = torch.zeros((B, T), dtype=torch.float32, device=cpu)
    for i, r in enumerate(rollouts):
        p, t = len(r.prompt_ids), len(r.response_ids)
        input_ids[i, P - p : P] = torch.tensor(r.prompt_ids, dtype=torch.long, device=cpu)
        input_ids[i, P : P + t] = torch.tensor(r.response_ids, dtype=torch.long, device=cpu)
        attention_mask[i, P - p : P + t] = 1
        response_mask[i, :t] = 1.0
        if r.action_mask is not None:
            response_mask[i, :t] *= torch.tensor(r.action_mask, dtype=torch.float32, device=cpu)
        old_logprobs[i, :t] = torch.tensor(r.logprobs, dtype=torch.float32, device=cpu)
    batch = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "position_ids": position_ids_from_mask(attention_mask),
        "response_mask": response_mask,
        "old_logprobs": old_logprobs,
        "prompt_lengths": torch.tensor([len(r.prompt_ids) for r in rollouts], dtype=torch.long, device=cpu),
        "response_lengths": torch.tensor(
            [len(r.response_ids) for r in rollouts], dtype=torch.long, device=cpu
        ),
    }
    return {k: v.to(device) for k, v in batch.items()} if device is not None else batch
