"""One training forward: response log-probs, optional entropy, and hooked hidden states."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

import torch
from torch import nn

from resrl.algorithms.flowrl import mean_prompt_representation
from resrl.algorithms.hidden import capture_hidden


@dataclass
class ForwardOutputs:
    log_probs: torch.Tensor  # [B, T] float32, log pi(y_t | x, y_<t) at the sampling temperature
    entropy: torch.Tensor | None  # [B, T] float32
    hidden: torch.Tensor | None  # [B, T, H]: the hooked layer at the positions that predict y_t
    prompt_repr: torch.Tensor | None  # [B, H]: mean final-layer state over the prompt (FlowRL's Z input)


def policy_forward(
    model: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    prompt_len: int,
    temperature: float,
    hidden_layer: int | None = None,
    with_prompt_repr: bool = False,
    with_entropy: bool = False,
    prompt_repr_exclude_last: bool = False,
) -> ForwardOutputs:
    """input_ids, attention_mask: [B, P + T] (prompt left-padded to P, response right-padded to T).

    Position ids follow the attention mask (as ``generate`` does with left padding), so the log-probs match
    the sampler's. Only the last ``T + 1`` logits are materialised. The hidden state used for response token
    ``y_t`` is the one at position ``P + t - 1`` (the state that predicts it), as in the authors' release.
    """
    t = input_ids.shape[1] - prompt_len
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    with ExitStack() as stack:
        box = stack.enter_context(capture_hidden(model, hidden_layer)) if hidden_layer is not None else None
        top = stack.enter_context(capture_hidden(model, -1)) if with_prompt_repr else None
        out = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=False,
            logits_to_keep=t + 1,
        )
    logits = out.logits[:, :-1].float() / temperature  # [B, T, V]
    logp_all = torch.log_softmax(logits, dim=-1)
    targets = input_ids[:, prompt_len:]
    log_probs = logp_all.gather(-1, targets[..., None]).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1) if with_entropy else None
    hidden = box["hidden"][:, prompt_len - 1 : prompt_len - 1 + t] if box is not None else None
    prompt_repr = None
    if (
        top is not None
    ):  # prompts are left-padded to prompt_len, so position prompt_len - 1 is every last prompt token
        end = prompt_len - 1 if prompt_repr_exclude_last else prompt_len
        prompt_repr = mean_prompt_representation(top["hidden"][:, :end], attention_mask[:, :end].bool())
    return ForwardOutputs(log_probs, entropy, hidden, prompt_repr)
