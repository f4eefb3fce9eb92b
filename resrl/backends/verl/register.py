"""Register the project's algorithms in veRL's public registries (imports ``verl``).

Importing this module registers: the policy loss ``resrl``; the advantage estimators ``resrl_grpo`` and
``resrl_w_reinforce``; the reward manager ``resrl`` (reward-loop registry, :mod:`.reward`); the trainer
``resrl_sync`` with its actor worker (:mod:`.workers`). :func:`setup_worker` is the Ray
``worker_process_setup_hook`` the launcher installs, so every Ray process (task runner, actor workers,
reward-loop workers) has them before veRL looks a name up.
"""

from __future__ import annotations

import numpy as np
import torch
from verl.trainer.ppo.core_algos import register_adv_est, register_policy_loss

from resrl.algorithms.grpo import grpo_advantages
from resrl.backends.verl.config import ADV_GRPO, ADV_W_REINFORCE, POLICY_LOSS
from resrl.backends.verl.losses import current_method, resrl_policy_loss

register_policy_loss(POLICY_LOSS)(resrl_policy_loss)


def dense_group_ids(index) -> torch.Tensor:
    """veRL's ``index`` (the prompt uid per response, any hashables) -> dense int ids [B]."""
    _, inverse = np.unique(np.asarray([str(u) for u in index]), return_inverse=True)
    return torch.as_tensor(inverse, dtype=torch.long)


def _config_get(config, key, default):
    if config is None:
        return default
    getter = getattr(config, "get", None)
    return getter(key, default) if getter is not None else getattr(config, key, default)


@register_adv_est(ADV_GRPO)
def resrl_grpo_advantage(
    token_level_rewards: torch.Tensor, response_mask: torch.Tensor, index=None, config=None, **_
) -> tuple[torch.Tensor, torch.Tensor]:
    """GRPO group normalisation via :func:`resrl.algorithms.grpo.grpo_advantages`.

    token_level_rewards, response_mask: [B, T]; index: [B] uids. Returns (advantages, returns), both [B, T].
    """
    if index is None:
        raise ValueError(f"{ADV_GRPO} needs the prompt uid ('index') of every response")
    cfg = current_method().cfg
    norm_std = bool(_config_get(config, "norm_adv_by_std_in_grpo", cfg.norm_std))
    if norm_std != cfg.norm_std:
        raise ValueError(
            f"algorithm.norm_adv_by_std_in_grpo={norm_std} disagrees with method.norm_std={cfg.norm_std}"
        )
    rewards = token_level_rewards.sum(dim=-1)
    adv = grpo_advantages(rewards, dense_group_ids(index).to(rewards.device), cfg.norm_std, cfg.adv_eps)
    out = adv.to(token_level_rewards.dtype)[:, None] * response_mask
    return out, out


@register_adv_est(ADV_W_REINFORCE)
def resrl_w_reinforce_advantage(
    token_level_rewards: torch.Tensor, response_mask: torch.Tensor, index=None, config=None, **_
) -> tuple[torch.Tensor, torch.Tensor]:
    """NSR / W-REINFORCE: ``+lambda`` for accepted responses (reward > 0), ``-1`` otherwise. Shapes as above."""
    method = current_method()
    if method.verl_advantage != "w_reinforce":
        raise ValueError(
            f"{ADV_W_REINFORCE} is for methods with verl_advantage='w_reinforce', not {method.name!r}"
        )
    positive = token_level_rewards.sum(dim=-1) > 0
    adv = method.sequence_advantages(
        token_level_rewards.sum(dim=-1), positive, torch.zeros_like(positive, dtype=torch.long)
    ).to(token_level_rewards.device)
    out = adv.to(token_level_rewards.dtype)[:, None] * response_mask
    return out, out


# The reward manager and the trainer/workers register themselves on import.
from resrl.backends.verl import reward as _reward  # noqa: E402,F401
from resrl.backends.verl import workers as _workers  # noqa: E402,F401


def setup_worker() -> None:
    """Ray ``worker_process_setup_hook``: importing this module did the registration."""
