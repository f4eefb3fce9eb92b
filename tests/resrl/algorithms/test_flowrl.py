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


def test_importance_weight_is_clipped_and_detached():
    logp = torch.tensor([[-1.0, -3.0]], requires_grad=True)
    old = logp.detach() - 1.0  # sequence ratio e^2, clipped to 1.2
    ref = torch.tensor([[-2.0, -2.0]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    loss, m = flowrl_loss(logp, old, ref, torch.tensor([0.5]), torch.tensor([0.1]), mask, clip_high=0.2)
    assert m["flowrl/is_weight"] == pytest.approx(1.2)
    assert loss.item() == pytest.approx(1.2)
    loss.backward()
    # d/dlogp_t of w * delta^2 with w constant: 2 * w * delta * (1/|y|) = 2 * 1.2 * (-1) / 2
    assert logp.grad[0].tolist() == pytest.approx([-1.2, -1.2])


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
    loss, _ = flowrl_loss(logp, logp.detach(), logp.detach() - 0.3, log_z, torch.tensor([1.0, -1.0]), torch.ones(2, 4, dtype=torch.bool))
    loss.backward()
    assert policy.weight.grad is not None and policy.weight.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters() if p.dim() == 2)


def test_mean_prompt_representation_ignores_padding():
    h = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[True, True, False]])
    assert mean_prompt_representation(h, mask).tolist() == [[2.0]]
