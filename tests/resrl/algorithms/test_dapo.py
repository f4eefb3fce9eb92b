import pytest
import torch

from resrl.algorithms.dapo import fill_with_informative_groups, informative_groups, soft_overlong_punishment


def test_soft_overlong_punishment_piecewise():
    lengths = torch.tensor([10, 15, 16, 18, 20, 21])
    out = soft_overlong_punishment(lengths, max_len=20, cache_len=5)
    assert out.tolist() == pytest.approx([0.0, 0.0, -0.2, -0.6, -1.0, -1.0])


def test_soft_overlong_rejects_bad_cache():
    with pytest.raises(ValueError, match="cache_len"):
        soft_overlong_punishment(torch.tensor([1]), max_len=10, cache_len=20)


def test_informative_groups_drops_all_equal_groups():
    rewards = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    groups = torch.tensor([0, 0, 1, 1, 2, 2])
    assert informative_groups(rewards, groups).tolist() == [False, False, False, False, True, True]


def test_fill_keeps_sampling_until_full():
    stream = iter([[1, 1], [0, 1], [0, 0], [1, 0], [0, 1]])  # reward lists of successive groups
    calls = []

    def sample(k):
        calls.append(k)
        return [next(stream) for _ in range(k)]

    res = fill_with_informative_groups(sample, lambda g: g, num_groups=2, max_tries=10)
    assert res.filled and res.groups == [[0, 1], [1, 0]]
    assert calls == [2, 1, 1]  # asks only for what is still missing
    assert res.sampled_groups == 4 and res.tries == 3


def test_fill_stops_at_max_tries():
    res = fill_with_informative_groups(lambda k: [[1, 1]] * k, lambda g: g, num_groups=3, max_tries=4)
    assert not res.filled and res.groups == [] and res.tries == 4 and res.sampled_groups == 12
