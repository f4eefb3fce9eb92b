"""EMPG's step-modulated advantages against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from resrl.algorithms.empg import empg_token_advantages, step_entropies, step_index


def test_steps_are_runs_of_response_tokens():
    mask = torch.tensor([[0, 1, 1, 0, 0, 1, 0, 1], [1, 1, 1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    assert step_index(mask).tolist() == [[-1, 0, 0, -1, -1, 1, -1, 2], [0, 0, 0, 0, -1, -1, -1, -1]]
    ent = torch.tensor([[9.0, 1.0, 3.0, 9.0, 9.0, 4.0, 9.0, 6.0], [2.0, 2.0, 2.0, 2.0, 9.0, 9.0, 9.0, 9.0]])
    h, exists = step_entropies(ent, mask)
    assert exists.tolist() == [[True, True, True], [True, False, False]]
    assert h[0].tolist() == [2.0, 4.0, 6.0] and h[1, 0].item() == 2.0  # environment tokens (9.0) never count


def test_modulation_by_hand():
    # one trajectory of two steps (entropies 0 and 1 after normalisation), one of one step (entropy 0.5)
    mask = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 0]], dtype=torch.bool)
    ent = torch.tensor([[1.0, 1.0, 7.0, 3.0], [2.0, 0.0, 0.0, 0.0]])  # steps: H = 1, 3 | 2 -> Hn = 0, 1 | 0.5
    adv = torch.tensor([1.0, -1.0])
    k, k_f, zeta = 1.0, 1.0, 0.1
    e = [math.exp(-k * x) for x in (0.0, 1.0, 0.5)]
    g = [x / (sum(e) / 3) for x in e]
    f1 = math.exp(-k_f * 1.0)  # the second step's clarity, the first step's bonus
    a_mod = [g[0] * 1.0 + zeta * f1, g[1] * 1.0, g[2] * -1.0]
    mean = sum(a_mod) / 3
    want = [[a_mod[0] - mean, a_mod[0] - mean, 0.0, a_mod[1] - mean], [a_mod[2] - mean, 0.0, 0.0, 0.0]]
    got = empg_token_advantages(adv, ent, mask, k=k, k_f=k_f, zeta=zeta)
    assert torch.allclose(got, torch.tensor(want), atol=1e-6)
    assert got.dtype == torch.float32


def test_confident_steps_get_more_weight_and_no_gradient_flows_through_entropy():
    mask = torch.ones(2, 3, dtype=torch.bool)
    ent = torch.tensor([[0.1, 0.1, 0.1], [2.0, 2.0, 2.0]], requires_grad=True)
    out = empg_token_advantages(torch.tensor([1.0, 1.0]), ent, mask, zeta=0.0)
    assert out[0, 0] > out[1, 0]  # same outcome advantage: the low-entropy step is scaled up
    assert not out.requires_grad


def test_registered_method_reads_entropy():
    from resrl.methods import build
    from resrl.methods.base import PolicyInputs

    method = build("empg")
    assert method.needs_entropy and method.name == "empg"
    lp = torch.zeros(2, 3)
    batch = PolicyInputs(
        log_probs=lp,
        old_log_probs=lp,
        response_mask=torch.ones(2, 3, dtype=torch.bool),
        rewards=torch.tensor([1.0, -1.0]),
        scores=torch.tensor([1.0, -1.0]),
        group_ids=torch.tensor([0, 0]),
        advantages=torch.tensor([1.0, -1.0]),
    )
    with pytest.raises(ValueError, match="entropies"):
        method.token_advantages(batch)
