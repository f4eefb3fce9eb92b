"""Fixtures of the BFCL tests: ground-truth calls rewritten as model replies (both formats), and a player that
sends replies turn by turn. Test modules that need bfcl_eval skip themselves with ``pytest.importorskip``."""

from __future__ import annotations

import ast
import importlib
import inspect
import json

import pytest


def python_reply(calls: list[str]) -> str:
    """A reply in BFCL's prompting format calling ``calls`` (ground-truth source strings)."""
    return "[" + ", ".join(calls) + "]"


def _method(name: str, classes: list[str]):
    from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING

    for cls in classes:
        klass = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[cls]), cls)
        if hasattr(klass, name):
            return getattr(klass, name)
    raise KeyError(name)


def tool_call_reply(calls: list[str], classes: list[str]) -> str:
    """The same calls as Qwen3/Hermes ``<tool_call>`` JSON blocks; positional arguments are named from the real
    method's signature."""
    blocks = []
    for src in calls:
        node = ast.parse(src, mode="eval").body
        params = [p for p in inspect.signature(_method(node.func.id, classes)).parameters if p != "self"]
        args = {params[i]: ast.literal_eval(a) for i, a in enumerate(node.args)}
        args.update({k.arg: ast.literal_eval(k.value) for k in node.keywords})
        blocks.append(
            "<tool_call>\n" + json.dumps({"name": node.func.id, "arguments": args}) + "\n</tool_call>"
        )
    return "\n".join(blocks)


def play(env, replies_per_turn: list[list[str]]):
    """Reset ``env`` and send, for each user turn, the given replies then an empty reply (ends the turn).
    Returns the list of EnvSteps."""
    env.reset()
    steps = []
    for replies in replies_per_turn:
        for r in replies:
            steps.append(env.step(r))
        steps.append(env.step(""))
        if steps[-1].done:
            break
    return steps


@pytest.fixture
def as_python():
    return python_reply


@pytest.fixture
def as_tool_calls():
    return tool_call_reply


@pytest.fixture
def player():
    return play
