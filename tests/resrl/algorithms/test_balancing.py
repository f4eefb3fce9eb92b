"""resrl.algorithms.balancing: veRL's length-balanced partitions and the release's micro-batch membership.

Exact agreement with veRL's own function is checked in tests/resrl/backends/test_verl_balancing_equal.py.
"""

import random

import pytest
import torch

from resrl.algorithms.balancing import balanced_partitions, release_micro_batch_ids, release_subgroup_ids


def test_four_items_two_partitions_by_hand():
    # Sorted (len, idx): (1,0) (2,1) (3,2) (4,3); runs of k=2 give states {1}{0} (spread 1, top 2) and
    # {3}{2} (spread 1, top 4). Equal spread -> the larger top goes first: {3}+{0} = 5, {2}+{1} = 5.
    # Equal sums and sizes -> order by first item: (3,4) > (2,3), so partition 0 = {3, 0}.
    assert balanced_partitions([1, 2, 3, 4], 2) == [[0, 3], [1, 2]]


def test_all_ties_by_hand():
    # Runs (0,1,2) and (3,4,5), each bin sorted by index descending: [{2},{1},{0}] and [{5},{4},{3}].
    # Top {5} > {2}, so the second run goes first: {5,0}, {4,1}, {3,2}, ordered by first index.
    assert balanced_partitions([5] * 6, 3) == [[0, 5], [1, 4], [2, 3]]


def test_single_partition_and_one_per_partition():
    assert balanced_partitions([3, 1, 2], 1) == [[0, 1, 2]]
    parts = balanced_partitions([3, 1, 2], 3)
    assert sorted(map(tuple, parts)) == [(0,), (1,), (2,)]
    assert parts == [[0], [2], [1]]  # descending length


def test_unequal_size_balances_sums():
    parts = balanced_partitions([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2, equal_size=False)
    sums = sorted(sum([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1][i] for i in p) for p in parts)
    assert sums == [10, 10]


@pytest.mark.parametrize(
    ("lengths", "k", "equal_size"),
    [([1, 2, 3], 4, True), ([1, 2, 3], 4, False), ([1, 2, 3], 2, True), ([1, 2], 0, False), ([], 1, False)],
)
def test_invalid_inputs_raise_value_error(lengths, k, equal_size):
    with pytest.raises(ValueError):
        balanced_partitions(lengths, k, equal_size=equal_size)


@pytest.mark.parametrize("equal_size", [True, False])
def test_random_invariants(equal_size):
    rng = random.Random(0)
    for _ in range(150):
        k = rng.randint(1, 8)
        n = k * rng.randint(1, 12) if equal_size else rng.randint(k, 60)
        lengths = [rng.randint(1, rng.choice([3, 50, 5000])) for _ in range(n)]
        parts = balanced_partitions(lengths, k, equal_size=equal_size)
        assert len(parts) == k
        assert sorted(i for p in parts for i in p) == list(range(n))
        assert all(p == sorted(p) and p for p in parts)
        if equal_size:
            assert {len(p) for p in parts} == {n // k}
        # deterministic, and independent of the caller's container type
        assert balanced_partitions(tuple(lengths), k, equal_size=equal_size) == parts


def test_balance_is_reasonable():
    rng = random.Random(1)
    lengths = [rng.randint(100, 4000) for _ in range(256)]
    parts = balanced_partitions(lengths, 8)
    sums = [sum(lengths[i] for i in p) for p in parts]
    assert max(sums) - min(sums) <= max(lengths)


def test_release_micro_batches_by_hand():
    # 2 prompts x 4 responses (original order: prompt 0 = idx 0-3, prompt 1 = idx 4-7), 2 ranks, micro-batch 2.
    lengths = [10, 20, 30, 40, 15, 25, 35, 45]
    # Sorted (len, idx): (10,0) (15,4) (20,1) (25,5) (30,2) (35,6) (40,3) (45,7); runs of 2 give states
    #   A = [{4:15}, {0:10}], B = [{5:25}, {1:20}], C = [{6:35}, {2:30}], D = [{7:45}, {3:40}], all spread 5.
    # Largest top first: D absorbs C -> {7,2}=75, {3,6}=75 (spread 0; {7,2} first since (7,45) > (3,40)).
    # Then B absorbs A -> {5,0}=35, {1,4}=35 (spread 0; {5,0} first).
    # Both spread 0, D's top 75 > 35: {7,2}+{1,4} = 110, {3,6}+{5,0} = 110; {7,2,1,4} first.
    # Partitions (sorted): rank 0 = [1, 2, 4, 7], rank 1 = [0, 3, 5, 6].
    assert balanced_partitions(lengths, 2) == [[1, 2, 4, 7], [0, 3, 5, 6]]
    # Micro-batches of 2 (contiguous on each rank): 0 = {1,2}, 1 = {4,7}, 2 = {0,3}, 3 = {5,6}.
    micro = release_micro_batch_ids(lengths, world_size=2, micro_batch_size=2)
    assert micro == [2, 0, 0, 2, 1, 3, 3, 1]
    assert release_micro_batch_ids(lengths, 2, 2, mini_batch_size=4) == micro
    assert release_micro_batch_ids(lengths, 2, 2, mini_batch_size=2) == micro
    # (group, micro) pairs: (0,2) (0,0) (0,0) (0,2) (1,1) (1,3) (1,3) (1,1)
    # -> sorted unique (0,0)=0, (0,2)=1, (1,1)=2, (1,3)=3.
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    sub = release_subgroup_ids(groups, torch.tensor(micro))
    assert sub.dtype == torch.long
    assert sub.tolist() == [1, 0, 0, 1, 2, 3, 3, 2]


def test_release_micro_batches_ragged_and_single_rank():
    # One rank, 5 sequences, micro-batch 2: contiguous [0,1] [2,3] [4] in index order (one partition, sorted).
    assert release_micro_batch_ids([7, 3, 9, 1, 4], world_size=1, micro_batch_size=2) == [0, 0, 1, 1, 2]
    # 2 ranks x 3 sequences, micro 2: ids per rank are 0,0,1 and 2,2,3 (ceil(3/2) = 2 per rank).
    ids = release_micro_batch_ids([1, 2, 3, 4, 5, 6], world_size=2, micro_batch_size=2)
    assert sorted(ids) == [0, 0, 1, 2, 2, 3]


def test_release_micro_batch_errors():
    with pytest.raises(ValueError, match="multiple of micro_batch_size"):
        release_micro_batch_ids([1] * 8, 2, 2, mini_batch_size=3)
    with pytest.raises(ValueError):
        release_micro_batch_ids([1] * 8, 2, 0)
    with pytest.raises(ValueError):
        release_micro_batch_ids([1] * 8, 2, 2, mini_batch_size=0)
    with pytest.raises(ValueError):
        release_micro_batch_ids([1] * 7, 2, 2)  # not divisible by world_size
    with pytest.raises(ValueError):
        release_micro_batch_ids([1], 2, 1)  # fewer sequences than ranks


def test_release_micro_batch_random_invariants():
    rng = random.Random(2)
    for _ in range(60):
        world = rng.choice([1, 2, 4, 8])
        micro = rng.choice([1, 2, 4])
        per_rank = micro * rng.randint(1, 6)
        lengths = [rng.randint(50, 3000) for _ in range(world * per_rank)]
        ids = release_micro_batch_ids(lengths, world, micro)
        counts = torch.bincount(torch.tensor(ids))
        assert counts.numel() == world * per_rank // micro
        assert counts.tolist() == [micro] * counts.numel()
        parts = balanced_partitions(lengths, world)
        for rank, part in enumerate(parts):  # ranks own disjoint id ranges
            assert {ids[i] // (per_rank // micro) for i in part} == {rank}


def test_subgroup_ids_shapes_and_errors():
    g = torch.tensor([5, 5, 9, 9, 5])
    m = torch.tensor([1, 0, 1, 1, 1], dtype=torch.int32)
    assert release_subgroup_ids(g, m).tolist() == [1, 0, 2, 2, 1]
    with pytest.raises(ValueError):
        release_subgroup_ids(g, m[:4])
    with pytest.raises(ValueError):
        release_subgroup_ids(g.float(), m)
    with pytest.raises(ValueError):
        release_subgroup_ids(g.view(5, 1), m.view(5, 1))
