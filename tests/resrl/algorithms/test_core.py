import pytest
import torch

from resrl.algorithms.core import agg_loss, group_index, masked_mean

LOSS = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0], [9.0, 9.0, 9.0]])
MASK = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 0, 0]], dtype=torch.bool)


def test_token_mean_divides_by_all_valid_tokens():
    assert agg_loss(LOSS, MASK, "token-mean").item() == pytest.approx(10.0 / 4)


def test_seq_mean_token_sum_skips_empty_sequences():
    assert agg_loss(LOSS, MASK, "seq-mean-token-sum").item() == pytest.approx((6.0 + 4.0) / 2)


def test_seq_mean_token_mean_averages_per_sequence_means():
    assert agg_loss(LOSS, MASK, "seq-mean-token-mean").item() == pytest.approx((2.0 + 4.0) / 2)


def test_unknown_mode_names_valid_modes():
    with pytest.raises(ValueError, match="token-mean"):
        agg_loss(LOSS, MASK, "sum")


def test_masked_mean_per_row_and_empty_row_is_zero():
    out = masked_mean(LOSS, MASK, dim=1)
    assert out.tolist() == pytest.approx([2.0, 4.0, 0.0])


def test_group_index_densifies_arbitrary_ids():
    dense, g = group_index(torch.tensor([7, 3, 7, 3, 11]))
    assert g == 3
    assert dense.tolist() == [1, 0, 1, 0, 2]
