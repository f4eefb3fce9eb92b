"""Device placement of every algorithm function and every method's hooks (issue 16, defects 1 and 5).

On a GPU, a tensor created on the CPU next to CUDA inputs crashes (``torch.quantile`` with a CPU ``q`` killed
every ResRL update). Here the inputs are real CPU tensors and the default device is ``meta`` (``stray_device``):
a tensor created without following its inputs lands on ``meta`` and the op mixing it raises the same error.
"""

from __future__ import annotations

import pytest
import torch

import resrl.methods as methods
from resrl.algorithms.core import agg_loss, masked_mean
from resrl.algorithms.dapo import informative_groups, soft_overlong_punishment
from resrl.algorithms.flowrl import LogZHead, flowrl_loss, mean_prompt_representation
from resrl.algorithms.grpo import PolicyLossConfig, clipped_policy_loss, grpo_advantages, kl_penalty
from resrl.algorithms.nsr import weighted_reinforce_advantages
from resrl.algorithms.resrl import (
    residual_energy,
    residual_token_weights,
    resrl_advantages,
    weight_statistics,
)
from resrl.algorithms.rewards import length_scaled_reward
from resrl.methods.base import PolicyInputs
from tests.helpers import ToolFormatTokenizer

B, T, H = 8, 10, 16


def _batch(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1, 7:] = False
    mask[6, 4:] = False
    return {
        "log_probs": -torch.rand(B, T, generator=g),
        "old_log_probs": -torch.rand(B, T, generator=g),
        "ref_log_probs": -torch.rand(B, T, generator=g),
        "entropy": torch.rand(B, T, generator=g),
        "hidden": torch.randn(B, T, H, generator=g),
        "mask": mask,
        "scores": torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]),
        "group_ids": torch.tensor([0, 0, 0, 0, 1, 1, 1, 1]),
        "lengths": torch.tensor([10, 7, 10, 10, 3900, 10, 4, 10]),
    }


def test_the_proxy_catches_a_tensor_left_on_the_cpu(stray_device):
    """The exact defect 1: quantile levels built without a device. If this stops raising, the proxy is blind."""
    w = torch.rand(20)
    with stray_device(), pytest.raises(RuntimeError, match="same device"):
        torch.quantile(w, torch.tensor([0.1, 0.5, 0.9]))
    with stray_device(), pytest.raises(RuntimeError, match="device"):
        torch.zeros(4).index_add_(0, torch.tensor([0, 1, 1]), w[:3])


def test_algorithm_functions_follow_their_inputs(stray_device):
    b = _batch()
    mask, pos = b["mask"], b["scores"] > 0
    head = LogZHead(H, 2)  # modules are built on the host, as the trainer does before moving them
    with stray_device():
        w = residual_token_weights(b["hidden"], mask, pos, b["group_ids"], rank=3)
        assert w.device.type == "cpu"
        stats = weight_statistics(w, mask, pos, 0.1)
        assert 0.1 <= stats["resrl/weight_p10"] <= stats["resrl/weight_p90"] <= 1.0
        adv = grpo_advantages(b["scores"], b["group_ids"])
        resrl_advantages(adv, w, pos, 0.1)
        weighted_reinforce_advantages(pos, 0.1)
        informative_groups(b["scores"], b["group_ids"])
        soft_overlong_punishment(b["lengths"], 4096, 512)
        length_scaled_reward(b["scores"], b["lengths"])
        residual_energy(torch.randn(5, H), torch.linalg.qr(torch.randn(H, 3)).Q)
        for mode in ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean"):
            agg_loss(b["log_probs"], mask, mode)
        kl_penalty(b["log_probs"], b["ref_log_probs"])
        cfg = PolicyLossConfig(dual_clip=3.0, kl_coef=0.1, entropy_coef=0.01)
        clipped_policy_loss(
            b["log_probs"], b["old_log_probs"], adv, mask, cfg, b["ref_log_probs"], b["entropy"]
        )
        log_z = head(mean_prompt_representation(b["hidden"], mask))
        flowrl_loss(b["log_probs"], b["old_log_probs"], b["ref_log_probs"], log_z, adv, mask)


def _method_kwargs(name: str) -> dict:
    kw = {"kl_coef": 0.05, "entropy_coef": 0.01, "dual_clip": 3.0}
    if name == "resrl":
        kw["rank"] = 3
    return kw


@pytest.mark.parametrize("name", methods.names())
def test_every_method_hook_follows_its_inputs(stray_device, name):
    """shape_rewards -> sequence_advantages -> loss, with every optional input the method can use."""
    method = methods.build(name, **_method_kwargs(name))
    b = _batch()
    log_probs = b["log_probs"].clone().requires_grad_(True)
    modules = method.build_modules(H)  # built on the host, as the trainer does before moving them
    with stray_device():
        rewards = method.shape_rewards(b["scores"], b["lengths"])
        adv = method.sequence_advantages(rewards, b["scores"] > 0, b["group_ids"])
        extra = method.module_inputs(modules, b["hidden"].mean(1)) if modules else {}
        width = b["mask"].shape[1]
        features = method.token_features(
            ToolFormatTokenizer(), [list(range(width))] * b["mask"].shape[0], 0, width
        )
        if features:  # built on the host (the trainer moves them): a default-device tensor would raise here
            extra["extras"] = {k: v.to(b["mask"].device) for k, v in features.items()}
        inputs = PolicyInputs(
            log_probs=log_probs,
            old_log_probs=b["old_log_probs"],
            response_mask=b["mask"],
            rewards=rewards,
            scores=b["scores"],
            group_ids=b["group_ids"],
            advantages=adv,
            ref_log_probs=b["ref_log_probs"],
            entropy=b["entropy"],
            hidden=b["hidden"] if method.hidden_layer is not None else None,
            **extra,
        )
        loss, metrics = method.loss(inputs)
        loss.backward()
    assert torch.isfinite(loss) and log_probs.grad is not None


def test_policy_inputs_name_a_tensor_on_another_device():
    b = _batch()
    with pytest.raises(ValueError, match=r"log_probs is on cpu but group_ids on meta"):
        PolicyInputs(
            log_probs=b["log_probs"],
            old_log_probs=b["old_log_probs"],
            response_mask=b["mask"],
            rewards=b["scores"],
            scores=b["scores"],
            group_ids=b["group_ids"].to("meta"),
            advantages=b["scores"],
        )


def test_pure_functions_on_fake_cuda_tensors(fake_cuda):
    """Functions without data-dependent Python control flow and without indexing, on (fake) CUDA tensors end to
    end. (On this CPU-only torch build, indexing a fake CUDA tensor, even ``x[:, None]``, raises "not linked with
    support for cuda devices"; the functions that index are covered by the ``stray_device`` tests above.)"""
    with fake_cuda():
        dev = torch.device("cuda")
        mask = torch.ones(B, T, dtype=torch.bool, device=dev)
        pos = torch.zeros(B, dtype=torch.bool, device=dev)
        lengths = torch.full((B,), 100, dtype=torch.long, device=dev)
        scores = torch.zeros(B, device=dev)
        lp = torch.zeros(B, T, device=dev)
        outs = [
            length_scaled_reward(scores, lengths),
            soft_overlong_punishment(lengths, 4096, 512),
            weighted_reinforce_advantages(pos, 0.1),
            agg_loss(lp, mask, "seq-mean-token-mean"),
            kl_penalty(lp, lp),
            masked_mean(lp, mask, dim=1),
            residual_energy(torch.zeros(5, H, device=dev), torch.zeros(H, 3, device=dev)),
        ]
    assert all(o.device.type == "cuda" for o in outs)
