import pytest
import torch

from resrl.algorithms.dapo import (
    DynamicSamplingExhausted,
    fill_with_informative_groups,
    informative_groups,
    soft_overlong_punishment,
)


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


def test_fill_samples_whole_generation_batches_until_full_and_cuts_the_surplus():
    """veRL's DAPO recipe: every round generates gen_batch prompts; informative groups are kept until the batch is
    full; the surplus is cut."""
    stream = iter([[1, 1], [0, 1], [0, 0], [1, 0], [0, 1], [1, 0]])  # reward lists of successive groups
    calls = []

    def sample(k):
        calls.append(k)
        return [next(stream) for _ in range(k)]

    res = fill_with_informative_groups(sample, lambda g: g, num_groups=3, max_tries=10, gen_batch=3)
    assert res.filled and res.groups == [[0, 1], [1, 0], [0, 1]]  # the 6th group (also informative) is cut
    assert calls == [3, 3]
    assert res.sampled_groups == 6 and res.tries == 2 and res.kept_groups == 3


def test_fill_raises_when_generation_batches_run_out_as_the_recipe():
    with pytest.raises(DynamicSamplingExhausted, match="kept 0 of 3 groups after 4 generation batches"):
        fill_with_informative_groups(lambda k: [[1, 1]] * k, lambda g: g, num_groups=3, max_tries=4)
    res = fill_with_informative_groups(
        lambda k: [[1, 1]] * k, lambda g: g, num_groups=3, max_tries=4, on_exhausted="partial"
    )
    assert not res.filled and res.groups == [] and res.tries == 4 and res.sampled_groups == 12
    stream = iter([[1, 1]] * 30 + [[0, 1]] * 3)
    res = fill_with_informative_groups(
        lambda k: [next(stream) for _ in range(k)], lambda g: g, num_groups=3, max_tries=0
    )  # 0 = no limit (the recipe's max_num_gen_batches <= 0)
    assert res.filled and res.tries == 11
