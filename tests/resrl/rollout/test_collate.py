"""collate: padded training tensors from hand-made rollouts."""

from __future__ import annotations

import pytest
import torch

from resrl.rollout import Rollout, collate, position_ids_from_mask


def rollouts():
    return [
        Rollout(0, 0, prompt_ids=[5, 6, 7], response_ids=[8, 9], text="", logprobs=[-0.5, -1.0]),
        Rollout(1, 0, prompt_ids=[1], response_ids=[2, 3, 4], text="", logprobs=[-0.1, -0.2, -0.3]),
    ]


def test_collate_layout_and_masks():
    b = collate(rollouts(), pad_id=0)
    assert b["input_ids"].tolist() == [[5, 6, 7, 8, 9, 0], [0, 0, 1, 2, 3, 4]]
    assert b["attention_mask"].tolist() == [[1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1]]
    assert b["position_ids"].tolist() == [[0, 1, 2, 3, 4, 4], [0, 0, 0, 1, 2, 3]]
    assert b["response_mask"].tolist() == [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    assert torch.allclose(b["old_logprobs"], torch.tensor([[-0.5, -1.0, 0.0], [-0.1, -0.2, -0.3]]))
    assert b["prompt_lengths"].tolist() == [3, 1]
    assert b["response_lengths"].tolist() == [2, 3]
    assert b["input_ids"].dtype == torch.long and b["old_logprobs"].dtype == torch.float32
    assert b["response_mask"].dtype == torch.float32


def test_response_region_starts_at_column_P():
    b = collate(rollouts(), pad_id=0)
    T = b["response_mask"].shape[1]
    P = b["input_ids"].shape[1] - T
    resp = b["input_ids"][:, P:][b["response_mask"].bool()].tolist()
    assert resp == [8, 9, 2, 3, 4]


def test_position_ids_from_mask():
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 0]])
    assert position_ids_from_mask(mask).tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 3, 3]]


def test_collate_rejects_bad_input():
    bad = [Rollout(0, 0, prompt_ids=[1], response_ids=[2, 3], text="", logprobs=[-0.1])]
    with pytest.raises(ValueError, match="rollout 0: 2 response tokens but 1 log-probs"):
        collate(bad, pad_id=0)
    with pytest.raises(ValueError, match="at least one rollout"):
        collate([], pad_id=0)
