"""FlowRL (Zhu et al. 2025b, arXiv 2509.15207): reward-distribution matching via trajectory balance.

Per response ``y`` to prompt ``x``:
``delta = log Z_phi(x) + (1/|y|) log pi(y|x) - beta * r_hat(x, y) - (1/|y|) log pi_ref(y|x)``,
loss ``= mean_B( w * delta^2 )`` with ``r_hat`` the group-normalised reward (GRPO advantage), ``beta = 15``,
and ``w = pi(y|x) / pi_old(y|x)`` detached (the sequence ratio: the product of token ratios). FlowRL's code
(Xuekai-Zhu/FlowRL ``dp_actor.py`` ``compute_flowrl_objective``) uses ``w`` unclipped (it computes a clipped copy
and never uses it): ``is_weight="unclipped"``, the default; the FlowRL paper's ``clip(w, 1 - clip_low,
1 + clip_high)`` is ``is_weight="clip"``. Either way the log-ratio is capped at 20 before ``exp`` (overflow guard).
``log Z_phi`` is an MLP with dropout on the mean last-layer representation of the prompt (FlowRL's code excludes
the last prompt token: ``prompt_repr="exclude_last"``), trained in the actor's optimiser.
"""

from __future__ import annotations

import torch
from torch import nn

from resrl.algorithms.core import autocast_off, masked_mean, masked_sum


class LogZHead(nn.Module):
    """``log Z_phi(x)``: MLP on the prompt representation. forward: [B, H] float -> [B] float."""

    def __init__(self, hidden_size: int, num_layers: int = 3, dropout: float = 0.1):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        layers: list[nn.Module] = []
        for _ in range(num_layers - 1):
            layers += [
                nn.Linear(hidden_size, hidden_size),
                nn.GELU(),
                nn.LayerNorm(hidden_size),
                nn.Dropout(dropout),
            ]
        layers.append(nn.Linear(hidden_size, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, prompt_repr: torch.Tensor) -> torch.Tensor:
        """Runs in the head's own dtype (float32) even inside a bf16 autocast region (veRL's actor loss)."""
        weight = self.net[-1].weight
        with autocast_off(weight.device):
            return self.net(prompt_repr.to(weight.dtype)).squeeze(-1)


IS_WEIGHTS = ("unclipped", "clip")
PROMPT_REPRS = ("exclude_last", "all")


def mean_prompt_representation(hidden: torch.Tensor, prompt_mask: torch.Tensor) -> torch.Tensor:
    """Masked mean over prompt positions. hidden: [B, P, H] any float; prompt_mask: [B, P] bool;
    returns [B, H] float32 (bf16 states are averaged in float32)."""
    h = hidden.float()
    m = prompt_mask.to(h.dtype)[..., None]
    return (h * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


def flowrl_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    ref_log_probs: torch.Tensor,
    log_z: torch.Tensor,
    norm_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    beta: float = 15.0,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    is_weight: str = "unclipped",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Trajectory-balance loss. log_probs, old_log_probs, ref_log_probs: [B, T] float; log_z: [B] float
    (with grad to Z_phi); norm_rewards: [B] float; response_mask: [B, T] bool. Returns (loss [], metrics).
    ``is_weight``: ``"unclipped"`` (FlowRL's code) or ``"clip"`` (the FlowRL paper). Computed in float32 (inputs
    upcast, autocast off), whatever autocast region the caller is in.
    """
    if is_weight not in IS_WEIGHTS:
        raise ValueError(f"is_weight={is_weight!r}; valid: {', '.join(IS_WEIGHTS)}")
    with autocast_off(log_probs.device):
        return _flowrl_loss_f32(
            log_probs.float(),
            old_log_probs.float(),
            ref_log_probs.float(),
            log_z.float(),
            norm_rewards.float(),
            response_mask.bool(),
            beta,
            clip_low,
            clip_high,
            is_weight,
        )


def _flowrl_loss_f32(
    log_probs, old_log_probs, ref_log_probs, log_z, norm_rewards, mask, beta, clip_low, clip_high, is_weight
):
    """:func:`flowrl_loss` on float32 tensors (shapes as there)."""
    avg_logp = masked_mean(log_probs, mask, dim=1)  # [B]
    avg_ref = masked_mean(ref_log_probs, mask, dim=1)  # [B]
    delta = log_z + avg_logp - beta * norm_rewards.to(avg_logp.dtype) - avg_ref  # [B]
    with torch.no_grad():
        seq_log_ratio = masked_sum(log_probs - old_log_probs, mask, dim=1)
        weight = torch.exp(seq_log_ratio.clamp(max=20.0))
        if is_weight == "clip":
            weight = weight.clamp(1.0 - clip_low, 1.0 + clip_high)
    loss = (weight * delta.pow(2)).mean()
    metrics = {
        "flowrl/loss": float(loss.detach()),
        "flowrl/log_z": float(log_z.detach().mean()),
        "flowrl/delta_abs": float(delta.detach().abs().mean()),
        "flowrl/is_weight": float(weight.mean()),
    }
    return loss, metrics
