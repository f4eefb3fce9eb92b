"""Group-preserving batch balancing: whole prompt groups per data-parallel rank, contiguous in order.

veRL's V1 trainer reorders every batch sample by sample to balance tokens across ranks, which scatters
a prompt's ``n`` responses over ranks and micro-batches. ResRL estimates the positive subspace inside a
group and FlowRL/GRPO statistics are per group too, so the ``resrl_sync`` trainer uses this order instead:
groups are assigned to ranks greedily (largest token workload first, to the least-loaded rank that still
has room), every rank gets the same number of groups, and each group's members stay adjacent, so a
micro-batch of ``n`` sequences is exactly one group.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def group_key(sample_key: str) -> str:
    """The prompt uid of a TransferQueue sample key ``{uid}_{session}_{index}`` (veRL's convention)."""
    return sample_key.split("_", 1)[0]


def balanced_group_order(groups: Sequence[str], workloads: Sequence[float], num_ranks: int) -> list[int]:
    """A permutation of sample indices: rank ``r``'s share is the ``r``-th contiguous block.

    groups: [N] group id per sample; workloads: [N] cost per sample (e.g. tokens). All groups must have the
    same size and their number must be a multiple of ``num_ranks`` (ValueError otherwise). Inside a rank,
    groups keep their first-appearance order and members keep their batch order.
    """
    if len(groups) != len(workloads):
        raise ValueError(f"groups ({len(groups)}) and workloads ({len(workloads)}) differ in length")
    if num_ranks < 1:
        raise ValueError(f"num_ranks must be >= 1, got {num_ranks}")
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    sizes = {len(m) for m in members.values()}
    if len(sizes) > 1:
        raise ValueError(
            f"prompt groups have different sizes {sorted(sizes)}; expected n responses per prompt"
        )
    if len(members) % num_ranks:
        raise ValueError(f"{len(members)} prompt groups cannot be split evenly over {num_ranks} ranks")
    capacity = len(members) // num_ranks
    order_of = {g: k for k, g in enumerate(members)}
    cost = {g: float(sum(workloads[i] for i in m)) for g, m in members.items()}
    loads = [0.0] * num_ranks
    assigned: list[list[str]] = [[] for _ in range(num_ranks)]
    for g in sorted(members, key=lambda g: (-cost[g], order_of[g])):
        rank = min((r for r in range(num_ranks) if len(assigned[r]) < capacity), key=lambda r: (loads[r], r))
        assigned[rank].append(g)
        loads[rank] += cost[g]
    order: list[int] = []
    for rank_groups in assigned:
        for g in sorted(rank_groups, key=order_of.__getitem__):
            order.extend(members[g])
    return order


def check_whole_groups(group_ids: torch.Tensor, n: int) -> None:
    """Raise ValueError unless every prompt group in a micro-batch has all its ``n`` responses.

    group_ids: [B] int (dense or not). ResRL fits one subspace per group and FlowRL/GRPO statistics are per group:
    a group split over micro-batches (``use_dynamic_bsz=true``, a micro-batch size that is not ``n``, a balancing
    that scatters groups) would silently fit on part of a group.
    """
    if n < 1:
        raise ValueError(f"rollout n must be >= 1, got {n}")
    _, counts = torch.unique(group_ids.detach().cpu(), return_counts=True)
    partial = sorted({int(c) for c in counts if int(c) != n})
    if partial:
        raise ValueError(
            f"a micro-batch holds prompt groups of sizes {partial}, not whole groups of n={n} responses; keep "
            "actor.use_dynamic_bsz=false and ppo_micro_batch_size_per_gpu=n (the resrl backend sets both)"
        )
