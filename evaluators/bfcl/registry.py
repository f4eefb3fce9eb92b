"""BFCL environments for training: ``make_envs(subset, episodes, seed) -> list[ChatEnv]``.

Entries are drawn with a seeded generator from the chosen categories (without replacement while the pool
lasts, then from a reshuffled pool again), each repeated ``group_size`` times in a row for group-relative
methods (GRPO, ResRL): draw ``i``'s copies are adjacent and have ids ``<entry id>/<i>-<k>``, ``k < group_size``.
The reward of an episode is ``score()["reward"]``: 1.0 when BFCL's checker finds it valid, else 0.0.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from evaluators.bfcl.data import CATEGORIES, BFCLEntry, canonical_category, load_category
from evaluators.bfcl.env import DEFAULT_MAX_TURN_STEPS, BFCLEnv


@functools.lru_cache(maxsize=16)
def _entries(category: str, data_dir: str | None, limit: int | None) -> tuple[BFCLEntry, ...]:
    return tuple(load_category(category, data_dir, limit))


def entry_pool(
    subset: str = "all", data_dir: str | os.PathLike | None = None, limit: int | None = None
) -> list[BFCLEntry]:
    """The entries of ``subset`` (a category or ``all``), the first ``limit`` of each category."""
    cats = list(CATEGORIES) if subset == "all" else [canonical_category(subset)]
    key = str(data_dir) if data_dir is not None else None
    return [e for c in cats for e in _entries(c, key, limit)]


def make_envs(
    subset: str = "all",
    episodes: int = 8,
    seed: int = 0,
    *,
    group_size: int = 1,
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
    call_format: str = "prompt",
    max_turn_steps: int = DEFAULT_MAX_TURN_STEPS,
) -> list[BFCLEnv]:
    """``episodes`` distinct draws (times ``group_size`` copies each) of BFCL entries as fresh environments.

    ``seed`` fixes the draw (same seed -> same entries in the same order); ``limit`` keeps the first ``limit``
    entries of each category (e.g. to hold the rest out); ``call_format``/``max_turn_steps`` as in
    :class:`evaluators.bfcl.env.BFCLEnv`. The caller resets, runs and closes them (``run_episodes`` resets).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    pool = entry_pool(subset, data_dir, limit)
    if not pool:
        raise ValueError(f"no BFCL entries for subset={subset!r} (data_dir={data_dir}, limit={limit})")
    rng = np.random.default_rng(seed)
    picks: list[BFCLEntry] = []
    while len(picks) < episodes:
        order = rng.permutation(len(pool))
        picks.extend(pool[i] for i in order[: episodes - len(picks)])
    return [
        BFCLEnv(e, call_format=call_format, max_turn_steps=max_turn_steps, episode_id=f"{e.id}/{i}-{k}")
        for i, e in enumerate(picks)
        for k in range(group_size)
    ]
