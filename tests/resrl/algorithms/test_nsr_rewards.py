import pytest
import torch

from resrl.algorithms.nsr import weighted_reinforce_advantages
from resrl.algorithms.rewards import length_scaled_reward


def test_w_reinforce_advantages():
    pos = torch.tensor([True, False, True])
    assert weighted_reinforce_advantages(pos, 0.1).tolist() == pytest.approx([0.1, -1.0, 0.1])
    assert weighted_reinforce_advantages(pos, 0.0).tolist() == pytest.approx([0.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="pos_weight"):
        weighted_reinforce_advantages(pos, -1.0)


def test_length_scaled_reward_hand_values():
    scores = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 1.0, -0.5])
    lengths = torch.tensor([100, 3500, 3798, 4096, 4096, 5000, 5000])
    out = length_scaled_reward(scores, lengths, max_len=4096, start=3500, end_scale=0.7)
    # 3798 is half-way from 3500 to 4096: factor 1 - 0.3 * 0.5 = 0.85; negatives untouched
    assert out.tolist() == pytest.approx([1.0, 1.0, 0.85, 0.7, 0.0, 0.7, -0.5])


def test_length_scaled_reward_validates():
    with pytest.raises(ValueError, match="start"):
        length_scaled_reward(torch.ones(1), torch.ones(1), max_len=100, start=200)
