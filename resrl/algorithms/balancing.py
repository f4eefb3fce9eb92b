"""Which sequences the authors' ResRL release fits a positive subspace on: (prompt group) AND (micro-batch).

The release (a veRL 0.5 fork) computes ResRL's token weights inside the actor's micro-batch loop, grouping by
prompt ``uid`` *within* each micro-batch. Which sequences share a micro-batch is fixed by two steps:

1. The trainer's ``_balance_batch`` (``trainer.balance_batch=True``): each sequence's total length is its
   attention-mask sum (prompt + response tokens); the batch is cut into ``world_size`` equally sized,
   length-balanced partitions by the largest differencing method (Karmarkar-Karp), each partition's indices
   sorted, and the batch is reordered as the concatenation of the partitions. The dispatcher then hands rank
   ``r`` the ``r``-th contiguous chunk, i.e. exactly the ``r``-th partition.
2. On each rank, the actor (``use_dynamic_bsz=False``) splits its chunk into contiguous mini-batches of
   ``ppo_mini_batch_size * n / world_size`` sequences and each of those into contiguous micro-batches of
   ``ppo_micro_batch_size_per_gpu`` sequences (the last one of a split may be shorter).

This module reproduces both steps (own implementation; only the facts are taken from veRL):

* :func:`balanced_partitions`: the largest differencing method with veRL's exact tie-breaking, so the result
  equals ``verl.utils.seqlen_balancing.get_seqlen_balanced_partitions`` (identical in veRL 0.5 and 0.9.1).
* :func:`release_micro_batch_ids`: for each sequence (original order) the global micro-batch it lands in.
* :func:`release_subgroup_ids`: dense ids of (group, micro-batch) pairs, the groups the release fits on.

Not modelled: ``use_dynamic_bsz=True`` (token-budget micro-batches), Ulysses sequence parallelism, and veRL
0.9.1's own ``_balance_batch``, which balances a FLOP workload (``24576 * L + L**2``) instead of ``L`` and
reorders indices inside each partition; the partitioning routine itself is unchanged there.

Tie-breaking (the facts that make the result exact):

* Items are ordered by ``(length, index)`` ascending.
* A *bin* (one future partition) is a list of ``(index, length)`` items in insertion order with a running sum;
  bins compare by ``(sum, number of items, items list)`` (lexicographic on the ``(index, length)`` tuples).
* A *state* holds ``k`` bins, kept sorted in descending bin order. With ``equal_size`` the sorted items are
  cut into consecutive runs of ``k`` and each run is one state, one item per bin; otherwise every item is a
  state of its own (one bin holding it, ``k - 1`` empty bins).
* Repeatedly the two first states are taken, where a state comes first when its spread (largest minus
  smallest bin sum) is larger, and on equal spread when its largest bin is larger. The first-taken state's
  ``i``-th bin absorbs the second's ``(k - 1 - i)``-th bin (its items appended after the bin's own, in
  order); the merged state's bins are re-sorted and it goes back into the pool.
* The last state's bins, in their (descending) order, are the partitions; each partition's indices are then
  sorted ascending.

Two distinct states never compare equal (their largest bins hold distinct indices), so the pool's order is a
strict total order and the result does not depend on how the priority queue breaks ties.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import torch

__all__ = ["balanced_partitions", "release_micro_batch_ids", "release_subgroup_ids"]


class _Bin:
    """One future partition: ``items`` = [(index, length), ...] in insertion order, ``total`` = their sum."""

    __slots__ = ("items", "total")

    def __init__(self) -> None:
        self.items: list[tuple[int, int]] = []
        self.total = 0

    def key(self) -> tuple:
        return (self.total, len(self.items), self.items)

    def absorb(self, other: _Bin) -> None:
        self.items.extend(other.items)
        self.total += other.total


class _State:
    """``k`` bins in descending key order; ``a < b`` means ``a`` must be merged first (min-heap order)."""

    __slots__ = ("bins",)

    def __init__(self, bins: list[_Bin]) -> None:
        self.bins = sorted(bins, key=_Bin.key, reverse=True)

    @property
    def spread(self):
        return self.bins[0].total - self.bins[-1].total

    def __lt__(self, other: _State) -> bool:
        if self.spread != other.spread:
            return self.spread > other.spread
        return self.bins[0].key() > other.bins[0].key()

    def absorb(self, other: _State) -> None:
        k = len(self.bins)
        for i, b in enumerate(self.bins):
            b.absorb(other.bins[k - 1 - i])
        self.bins.sort(key=_Bin.key, reverse=True)


def _state_of(items: Sequence[tuple[int, int]], k: int) -> _State:
    bins = [_Bin() for _ in range(k)]
    for b, (idx, length) in zip(bins, items, strict=False):
        b.items.append((idx, length))
        b.total += length
    return _State(bins)


def balanced_partitions(lengths: Sequence[int], k: int, equal_size: bool = True) -> list[list[int]]:
    """Split indices ``0..len(lengths)-1`` into ``k`` partitions with balanced length sums.

    lengths: [N] per-item lengths (ints; any mutually comparable numbers work).
    Returns ``k`` lists of indices, each sorted ascending, together holding every index exactly once; with
    ``equal_size`` every list has ``N // k`` indices. Same partitions, in the same order, as veRL's
    ``get_seqlen_balanced_partitions(lengths, k_partitions=k, equal_size=equal_size)`` (see module docstring).

    Raises ValueError when ``k < 1``, ``N < k``, or ``equal_size`` and ``N % k != 0`` (veRL asserts).
    """
    n = len(lengths)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if n < k:
        raise ValueError(f"need at least k={k} items to fill {k} partitions, got {n}")
    if equal_size and n % k != 0:
        raise ValueError(f"equal_size partitions need len(lengths) divisible by k: {n} % {k} = {n % k}")

    ordered = sorted((length, idx) for idx, length in enumerate(lengths))
    as_items = [(idx, length) for length, idx in ordered]
    if equal_size:
        pool = [_state_of(as_items[start : start + k], k) for start in range(0, n, k)]
    else:
        pool = [_state_of([item], k) for item in as_items]
    heapq.heapify(pool)

    while len(pool) > 1:
        first = heapq.heappop(pool)
        second = heapq.heappop(pool)
        first.absorb(second)
        heapq.heappush(pool, first)

    partitions = [sorted(idx for idx, _ in b.items) for b in pool[0].bins]
    for i, part in enumerate(partitions):
        if not part:
            raise ValueError(f"partition {i} came out empty (lengths={list(lengths)!r}, k={k})")
        if equal_size and len(part) * k != n:
            raise ValueError(f"partition {i} has {len(part)} items, expected {n // k}")
    return partitions


def release_micro_batch_ids(
    lengths: Sequence[int],
    world_size: int,
    micro_batch_size: int,
    *,
    mini_batch_size: int | None = None,
) -> list[int]:
    """Global micro-batch index of every sequence of one training step under the release's balance-then-split.

    lengths: [B] total tokens per sequence (attention-mask sum: prompt + response), in the trainer's original
        batch order (before ``_balance_batch``).
    world_size: number of data-parallel ranks (``_balance_batch``'s ``k_partitions``).
    micro_batch_size: ``ppo_micro_batch_size_per_gpu`` (sequences).
    mini_batch_size: optional per-rank mini-batch size in sequences (``ppo_mini_batch_size * n / world_size``);
        only checked: micro-batch membership ignores mini-batch boundaries exactly when it is a multiple of
        ``micro_batch_size`` (veRL's workers assert the same), so anything else raises ValueError.

    Returns [B] ints: rank ``r``'s ``j``-th micro-batch is ``r * ceil((B / world_size) / micro_batch_size) + j``.
    Raises ValueError for ``B`` not divisible by ``world_size``, ``B < world_size``, or non-positive sizes.
    """
    if micro_batch_size < 1:
        raise ValueError(f"micro_batch_size must be >= 1, got {micro_batch_size}")
    if mini_batch_size is not None:
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size}")
        if mini_batch_size % micro_batch_size != 0:
            raise ValueError(
                f"per-rank mini_batch_size {mini_batch_size} is not a multiple of micro_batch_size "
                f"{micro_batch_size}: micro-batches would depend on mini-batch boundaries (veRL rejects this too)"
            )
    partitions = balanced_partitions(lengths, world_size, equal_size=True)
    per_rank = len(lengths) // world_size
    per_rank_micro = -(-per_rank // micro_batch_size)
    ids = [-1] * len(lengths)
    # rank r's contiguous chunk of the reordered batch is exactly partition r (all partitions have B / world_size)
    for rank, part in enumerate(partitions):
        for pos, idx in enumerate(part):
            ids[idx] = rank * per_rank_micro + pos // micro_batch_size
    return ids


def release_subgroup_ids(group_ids: torch.Tensor, micro_batch_ids: torch.Tensor) -> torch.Tensor:
    """Dense ids of (group, micro-batch) pairs: the groups the release fits its positive subspaces on.

    group_ids: [B] integer prompt-group ids; micro_batch_ids: [B] integer micro-batch ids (same device).
    Returns [B] long in ``[0, G')``, numbered in ascending ``(group id, micro-batch id)`` order.
    """
    if group_ids.dim() != 1 or micro_batch_ids.dim() != 1 or group_ids.shape != micro_batch_ids.shape:
        raise ValueError(
            f"expected two 1-D tensors of the same length, got {tuple(group_ids.shape)} and "
            f"{tuple(micro_batch_ids.shape)}"
        )
    for name, t in (("group_ids", group_ids), ("micro_batch_ids", micro_batch_ids)):
        if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
            raise ValueError(f"{name} must be an integer tensor, got {t.dtype}")
    pairs = torch.stack([group_ids.long(), micro_batch_ids.long().to(group_ids.device)], dim=1)  # [B, 2]
    _, dense = torch.unique(pairs, dim=0, return_inverse=True)
    return dense.long()
