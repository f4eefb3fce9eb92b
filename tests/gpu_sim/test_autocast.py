"""Float32 inside bf16 autocast (issue 16, defect 2).

veRL calls the actor loss inside its FSDP engine's autocast (bf16 by default). ``torch.autocast("cpu",
dtype=torch.bfloat16)`` is its CPU analogue (measured: matmuls and ``nn.Linear`` turn bf16 inside it). The ResRL
weights (LayerNorm, randomized range finder, projections) and FlowRL's log Z head and loss must equal their float32
results.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

from resrl.algorithms.flowrl import LogZHead, flowrl_loss, mean_prompt_representation
from resrl.algorithms.resrl import residual_token_weights

B, T, H = 8, 24, 64


def _bf16():
    return torch.autocast("cpu", dtype=torch.bfloat16)


def test_the_proxy_turns_matmuls_bf16():
    a = torch.randn(8, 8)
    with _bf16():
        assert (a @ a).dtype == torch.bfloat16
        assert torch.nn.Linear(8, 1)(a).dtype == torch.bfloat16


@pytest.mark.parametrize("svd", ["randomized", "exact"])
def test_resrl_weights_under_bf16_autocast_equal_float32(svd):
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(B, T, H, generator=g)
    mask = torch.ones(B, T, dtype=torch.bool)
    pos = torch.tensor([1, 0, 1, 0, 1, 1, 0, 0], dtype=torch.bool)
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    ref = residual_token_weights(hidden, mask, pos, groups, rank=8, svd=svd)
    with _bf16():
        got = residual_token_weights(hidden, mask, pos, groups, rank=8, svd=svd)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=0)
    assert (ref[~pos] < 1).any()  # the comparison covers real weights, not only the weight-1 default


def test_flowrl_head_and_loss_under_bf16_autocast_equal_float32():
    torch.manual_seed(0)
    head = LogZHead(H, 3, dropout=0.0)  # deterministic: two runs compared
    hidden = torch.randn(B, T, H)
    mask = torch.ones(B, T, dtype=torch.bool)
    lp, old, ref = -torch.rand(B, T), -torch.rand(B, T), -torch.rand(B, T)
    adv = torch.randn(B)

    def run(ctx):
        # as veRL's FSDP engine: forward and loss inside autocast, backward after leaving it
        # (verl/workers/engine/fsdp/transformer_impl.py: forward_step under torch.autocast; loss.backward() outside)
        head.zero_grad()
        with ctx:
            log_z = head(mean_prompt_representation(hidden, mask))
            loss, _ = flowrl_loss(lp, old, ref, log_z, adv, mask)
        loss.backward()
        return log_z.detach(), loss.detach(), head.net[0].weight.grad.clone()

    z32, l32, g32 = run(contextlib.nullcontext())
    z, loss, grad = run(_bf16())
    assert z.dtype == torch.float32 and loss.dtype == torch.float32
    torch.testing.assert_close(z, z32, atol=1e-5, rtol=0)
    torch.testing.assert_close(loss, l32, atol=1e-5, rtol=1e-6)
    torch.testing.assert_close(grad, g32, atol=1e-5, rtol=1e-5)
