"""Fixtures of the reliability tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models on a shared 2-core machine: one intra-op thread is far faster than two threads contending with
    other jobs (a 3-step tiny-qwen3 run took 25 s with 2 threads under load, under 1 s with 1). Restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
