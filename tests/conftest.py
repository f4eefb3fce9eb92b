"""Test-wide settings: one torch thread. Tiny models run faster single-threaded, and results do not depend on how
many cores the machine has free (bit-for-bit comparisons assume the same thread count)."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
