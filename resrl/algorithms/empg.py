"""EMPG: entropy-modulated policy gradients for multi-turn agents (Wang et al. 2025, arXiv 2509.09265).

A trajectory is one sequence whose response tokens hold every assistant turn (environment tokens are masked out);
a *step* is one contiguous run of response tokens. With ``H_t`` the mean token entropy of step ``t``:

- ``Hn = (H - min H) / (max H - min H + eps)`` over every step of the batch (min-max normalisation, Eq. 12);
- self-calibrating scale ``g(Hn) = exp(-k Hn) / mean_batch exp(-k Hn)`` (Eq. 10; mean 1 over the batch's steps);
- future clarity bonus ``f(Hn) = exp(-k_f Hn)`` of the *next* step of the same trajectory (Eq. 11; none after the
  last step);
- ``A_mod(t) = g(H_t) A + zeta f(H_{t+1})`` with ``A`` the trajectory's outcome (GRPO) advantage (Eq. 8);
- ``A_final = A_mod - mean_batch A_mod`` over the batch's steps (Eq. 7: centred, not divided by a std).

Source: the authors' pseudocode ``compute_empg_advantage(tokenizer, batch, k=1.0, k_f=1.0, zeta=0.1)`` on the
project page (empgseed-seed.github.io), which segments steps by assistant turns as here. Entropies are the old
policy's and carry no gradient.
"""

from __future__ import annotations

import torch


def step_index(response_mask: torch.Tensor) -> torch.Tensor:
    """``[B, T]`` bool mask -> ``[B, T]`` long: the 0-based step (run of True) each token belongs to, -1 outside."""
    mask = response_mask.bool()
    prev = torch.zeros_like(mask)
    prev[:, 1:] = mask[:, :-1]
    starts = mask & ~prev
    steps = torch.cumsum(starts.long(), dim=1) - 1
    return torch.where(mask, steps, torch.full_like(steps, -1))


def step_entropies(entropy: torch.Tensor, response_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean token entropy per step, ``[B, S]`` float32, and which steps exist, ``[B, S]`` bool (S: most steps of a
    row)."""
    idx = step_index(response_mask)
    n_steps = int(idx.max().item()) + 1 if idx.numel() and idx.max() >= 0 else 0
    rows = entropy.shape[0]
    sums = torch.zeros(rows, max(n_steps, 1), dtype=torch.float32, device=entropy.device)
    counts = torch.zeros_like(sums)
    inside = idx >= 0
    safe = idx.clamp_min(0)
    sums.scatter_add_(1, safe, entropy.detach().float() * inside)
    counts.scatter_add_(1, safe, inside.float())
    exists = counts > 0
    return sums / counts.clamp_min(1.0), exists


def empg_token_advantages(
    advantages: torch.Tensor,
    entropy: torch.Tensor,
    response_mask: torch.Tensor,
    k: float = 1.0,
    k_f: float = 1.0,
    zeta: float = 0.1,
    eps: float = 1e-8,
) -> torch.Tensor:
    """Token advantages ``[B, T]`` float32 from trajectory advantages ``[B]``, token entropies ``[B, T]`` and the
    response mask ``[B, T]`` (module docstring); 0 outside the response."""
    mask = response_mask.bool()
    h, exists = step_entropies(entropy, mask)
    if not exists.any():
        return torch.zeros(mask.shape, dtype=torch.float32, device=mask.device)
    valid = h[exists]
    hn = (h - valid.min()) / (valid.max() - valid.min() + eps)
    scale = torch.exp(-k * hn)
    g = scale / (scale[exists].mean() + eps)
    f = torch.exp(-k_f * hn) * exists
    f_next = torch.zeros_like(f)
    f_next[:, :-1] = f[:, 1:]  # the next step's clarity; 0 after the last step (f is 0 where no step exists)
    a_mod = g * advantages.float()[:, None] + zeta * f_next
    a_final = (a_mod - a_mod[exists].mean()) * exists
    idx = step_index(mask)
    tokens = torch.gather(a_final, 1, idx.clamp_min(0))
    return torch.where(mask, tokens, torch.zeros_like(tokens))
