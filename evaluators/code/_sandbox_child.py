"""Compatibility name: the sandbox's child now lives in the package ``evaluators.code.sandbox.child`` (one module per
job: protocol, codec, policy, guard, asserts, harness, rootfs, worker, pump, verdict, supervisor).

This module re-exports the value codec (``evaluators.code.sandbox.child.codec``) and ``compile_tests`` for code that
imports them from the old single-file child; new code imports ``evaluators.code.sandbox.child.codec`` directly. It is
not the sandbox's entry point (that is ``evaluators/code/sandbox/child/__main__.py``).
"""

from __future__ import annotations

from evaluators.code.sandbox.child.asserts import compile_tests
from evaluators.code.sandbox.child.codec import (
    DIGEST_OVER,
    MAX_DEPTH,
    MAX_NODES,
    Digest,
    Unsupported,
    clone_value,
    decode_value,
    digest_if_large,
    encode_value,
)
from evaluators.code.sandbox.child.protocol import WORKDIR_IN_NS

__all__ = [
    "DIGEST_OVER",
    "MAX_DEPTH",
    "MAX_NODES",
    "WORKDIR_IN_NS",
    "Digest",
    "Unsupported",
    "clone_value",
    "compile_tests",
    "decode_value",
    "digest_if_large",
    "encode_value",
]
