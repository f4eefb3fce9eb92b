"""GRPO (Shao et al. 2024): group-normalised advantages and the clipped token policy-gradient loss.

The clipped surrogate, dual clip and KL estimators follow the definitions in the PPO/GRPO/DAPO papers
(and veRL's naming): ratio ``rho = exp(clamp(logp - old_logp, -20, 20))`` (veRL's clamp),
``L = -min(A * rho, A * clip(rho, 1 - clip_low, 1 + clip_high))`` per token, and with dual clip
(Ye et al. 2020) the loss of negative-advantage tokens is additionally capped at ``-A * clip_c`` (``clip_c = 3``:
veRL's ``compute_policy_loss`` always applies it, so the authors' release ran with it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resrl.algorithms.core import agg_loss, group_index, masked_mean


def grpo_advantages(
    rewards: torch.Tensor, group_ids: torch.Tensor, norm_std: bool = True, eps: float = 1e-6
) -> torch.Tensor:
    """Group-relative advantages ``(r - mean_g) / (std_g + eps)`` (or ``r - mean_g`` without std).

    rewards: [B] float; group_ids: [B] int (responses to the same prompt share an id); returns [B] float32.
    The std is the unbiased sample std of the group (as in the GRPO paper and veRL); a group of one
    response, or one whose rewards are all equal, has advantage 0 (even with ``eps=0``).
    """
    if rewards.shape != group_ids.shape or rewards.dim() != 1:
        raise ValueError(
            f"rewards and group_ids must both be [B]; got {tuple(rewards.shape)} and {tuple(group_ids.shape)}"
        )
    r = rewards.to(torch.float32)
    dense, num_groups = group_index(group_ids)
    count = torch.zeros(num_groups, dtype=r.dtype, device=r.device).index_add_(0, dense, torch.ones_like(r))
    mean = torch.zeros(num_groups, dtype=r.dtype, device=r.device).index_add_(0, dense, r) / count
    centred = r - mean[dense]
    if not norm_std:
        return torch.where(count[dense] > 1, centred, torch.zeros_like(centred))
    sq = torch.zeros(num_groups, dtype=r.dtype, device=r.device).index_add_(0, dense, centred**2)
    std = torch.sqrt(sq / (count - 1).clamp_min(1.0))
    denom = std[dense] + eps
    informative = (count[dense] > 1) & (denom > 0)
    return torch.where(informative, centred / torch.where(informative, denom, 1.0), torch.zeros_like(centred))


def kl_penalty(log_probs: torch.Tensor, ref_log_probs: torch.Tensor, kind: str = "k3") -> torch.Tensor:
    """Per-token KL(pi || pi_ref) estimate. log_probs, ref_log_probs: [B, T]; returns [B, T].

    ``k1``: ``logp - ref``; ``k3`` (Schulman's low-variance estimator): ``exp(ref - logp) - (ref - logp) - 1``.
    """
    if kind == "k1":
        return log_probs - ref_log_probs
    if kind == "k3":
        d = ref_log_probs - log_probs
        return torch.exp(d) - d - 1.0
    raise ValueError(f"unknown kl type {kind!r}; valid: k1, k3")


@dataclass(frozen=True)
class PolicyLossConfig:
    """Clipped policy-gradient loss settings; defaults follow the ResRL paper's veRL runs."""

    clip_low: float = 0.2
    clip_high: float = 0.2
    dual_clip: float | None = (
        3.0  # veRL's clip_ratio_c: always on in veRL's compute_policy_loss (release: 3.0)
    )
    log_ratio_clamp: float | None = 20.0  # |logp - old_logp| clamped before exp (veRL: +-20); None: no clamp
    kl_coef: float = 0.0  # paper: KL loss coefficient 0
    kl_type: str = "k3"
    entropy_coef: float = 0.0  # paper: entropy coefficient 0
    loss_agg_mode: str = "token-mean"

    def __post_init__(self) -> None:
        if self.clip_low < 0 or self.clip_high < 0:
            raise ValueError(f"clip_low/clip_high must be >= 0, got {self.clip_low}/{self.clip_high}")
        if self.dual_clip is not None and self.dual_clip <= 1.0:
            raise ValueError(f"dual_clip must be > 1 (e.g. 3.0) or None, got {self.dual_clip}")
        if self.log_ratio_clamp is not None and self.log_ratio_clamp <= 0:
            raise ValueError(f"log_ratio_clamp must be > 0 or None, got {self.log_ratio_clamp}")
        if self.kl_type not in ("k1", "k3"):
            raise ValueError(f"kl_type must be k1 or k3, got {self.kl_type!r}")


def clipped_policy_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    cfg: PolicyLossConfig = PolicyLossConfig(),
    ref_log_probs: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped surrogate + optional KL and entropy terms, reduced by ``cfg.loss_agg_mode``.

    log_probs, old_log_probs: [B, T] float; advantages: [B, T] or [B] float (broadcast over T);
    response_mask: [B, T] bool; ref_log_probs, entropy: [B, T] or None. Returns (loss [], metrics).
    """
    if advantages.dim() == 1:
        advantages = advantages[:, None].expand_as(log_probs)
    mask = response_mask.bool()
    log_ratio = log_probs - old_log_probs
    if (
        cfg.log_ratio_clamp is not None
    ):  # as veRL: an overflowing ratio would make a negative-advantage loss inf
        log_ratio = log_ratio.clamp(-cfg.log_ratio_clamp, cfg.log_ratio_clamp)
    ratio = torch.exp(log_ratio)
    loss_unclipped = -advantages * ratio
    loss_clipped = -advantages * torch.clamp(ratio, 1.0 - cfg.clip_low, 1.0 + cfg.clip_high)
    pg_losses = torch.maximum(loss_unclipped, loss_clipped)
    clipped = (loss_clipped > loss_unclipped) & mask
    if cfg.dual_clip is not None:
        capped = torch.minimum(pg_losses, -advantages * cfg.dual_clip)
        dual_active = (advantages < 0) & (capped < pg_losses) & mask
        pg_losses = torch.where(advantages < 0, capped, pg_losses)
    else:
        dual_active = torch.zeros_like(mask)
    loss = agg_loss(pg_losses, mask, cfg.loss_agg_mode)
    metrics = {
        "actor/pg_loss": float(loss.detach()),
        "actor/pg_clipfrac": float(masked_mean(clipped.float(), mask)),
        "actor/pg_clipfrac_dual": float(masked_mean(dual_active.float(), mask)),
        "actor/ppo_kl": float(masked_mean(-log_ratio.detach(), mask)),
    }
    if cfg.kl_coef != 0.0:
        if ref_log_probs is None:
            raise ValueError("kl_coef != 0 needs ref_log_probs (enable the reference model)")
        kl = agg_loss(kl_penalty(log_probs, ref_log_probs, cfg.kl_type), mask, cfg.loss_agg_mode)
        loss = loss + cfg.kl_coef * kl
        metrics["actor/kl_loss"] = float(kl.detach())
    if cfg.entropy_coef != 0.0:
        if entropy is None:
            raise ValueError("entropy_coef != 0 needs the token entropy")
        ent = agg_loss(entropy, mask, cfg.loss_agg_mode)
        loss = loss - cfg.entropy_coef * ent
        metrics["actor/entropy_loss"] = float(ent.detach())
    return loss, metrics
