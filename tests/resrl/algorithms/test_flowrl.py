import pytest
import torch

from resrl.algorithms.flowrl import LogZHead, flowrl_loss, mean_prompt_representation


def test_flowrl_loss_hand_value():
    logp = torch.tensor([[-1.0, -3.0]])  # mean -2
    ref = torch.tensor([[-2.0, -2.0]])  # mean -2
    mask = torch.ones(1, 2, dtype=torch.bool)
    log_z = torch.tensor([0.5])
    # delta = 0.5 + (-2) - 15 * 0.1 - (-2) = -1.0; on-policy weight 1
    loss, m = flowrl_loss(logp, logp, ref, log_z, torch.tensor([0.1]), mask, beta=15.0)
    assert loss.item() == pytest.approx(1.0)
    assert m["flowrl/is_weight"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "mode,w", [("clip", pytest.approx(1.2)), ("unclipped", pytest.approx(7.389056, rel=1e-6))]
)
def test_importance_weight_modes_and_detached(mode, w):
    """FlowRL's code uses the sequence ratio unclipped (the default); the FlowRL paper clips it (``clip``)."""
    logp = torch.tensor([[-1.0, -3.0]], requires_grad=True)
    old = logp.detach() - 1.0  # sequence ratio e^2 = 7.389; clipped to 1.2
    ref = torch.tensor([[-2.0, -2.0]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    loss, m = flowrl_loss(
        logp, old, ref, torch.tensor([0.5]), torch.tensor([0.1]), mask, clip_high=0.2, is_weight=mode
    )
    weight = 1.2 if mode == "clip" else 7.389056
    assert m["flowrl/is_weight"] == w
    assert loss.item() == pytest.approx(weight * 1.0, rel=1e-6)  # delta = -1 as in the hand value above
    loss.backward()
    # d/dlogp_t of w * delta^2 with w constant: 2 * w * delta * (1/|y|) = -w per token
    assert logp.grad[0].tolist() == pytest.approx([-weight, -weight], rel=1e-6)


def test_importance_weight_overflow_is_capped():
    logp, old = torch.tensor([[60.0]]), torch.zeros(1, 1)
    loss, m = flowrl_loss(
        logp, old, torch.zeros(1, 1), torch.zeros(1), torch.zeros(1), torch.ones(1, 1, dtype=torch.bool)
    )
    assert m["flowrl/is_weight"] == pytest.approx(torch.exp(torch.tensor(20.0)).item(), rel=1e-6)
    with pytest.raises(ValueError, match="is_weight='max'; valid: unclipped, clip"):
        flowrl_loss(
            logp,
            old,
            torch.zeros(1, 1),
            torch.zeros(1),
            torch.zeros(1),
            torch.ones(1, 1, dtype=torch.bool),
            is_weight="max",
        )


def test_log_z_head_is_flowrls_projection():
    """FlowRL's ProjZModule with porj_layer=3: 2 x [Linear(H,H), GELU, LayerNorm, Dropout(0.1)], Linear(H,1)."""
    head = LogZHead(8)
    kinds = [type(m).__name__ for m in head.net]
    assert kinds == ["Linear", "GELU", "LayerNorm", "Dropout"] * 2 + ["Linear"]
    assert head.net[3].p == 0.1 and head.net[-1].out_features == 1


def test_gradients_reach_policy_and_log_z_head():
    torch.manual_seed(0)
    hidden = 8
    policy = torch.nn.Linear(hidden, 5)
    head = LogZHead(hidden, num_layers=3)
    prompt_h = torch.randn(2, 3, hidden)
    resp_h = torch.randn(2, 4, hidden)
    tokens = torch.randint(0, 5, (2, 4))
    logp = torch.log_softmax(policy(resp_h), -1).gather(-1, tokens[..., None]).squeeze(-1)
    log_z = head(mean_prompt_representation(prompt_h, torch.ones(2, 3, dtype=torch.bool)))
    loss, _ = flowrl_loss(
        logp,
        logp.detach(),
        logp.detach() - 0.3,
        log_z,
        torch.tensor([1.0, -1.0]),
        torch.ones(2, 4, dtype=torch.bool),
    )
    loss.backward()
    assert policy.weight.grad is not None and policy.weight.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters() if p.dim() == 2)


def test_mean_prompt_representation_ignores_padding():
    h = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[True, True, False]])
    assert mean_prompt_representation(h, mask).tolist() == [[2.0]]
