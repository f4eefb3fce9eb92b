"""Shared pieces of the agent tests: skip (with the reason) when the game engines are missing, the shipped games,
and a scripted "expert" sampler that replays each game's walkthrough through ``run_episodes``."""

from __future__ import annotations

import re

import pytest

from resrl.paths import REPO_ROOT
from resrl.rollout.base import Rollout

SHIPPED_ALFWORLD = REPO_ROOT / "data" / "agents" / "alfworld"
SHIPPED_TEXTWORLD = REPO_ROOT / "data" / "agents" / "textworld"


@pytest.fixture
def textworld_engine():
    """The textworld package; the test is skipped, with the install command, when it is missing."""
    return pytest.importorskip("textworld", reason="textworld is not installed: pip install textworld==1.7.0")


@pytest.fixture
def alfworld_engine(textworld_engine):
    """The alfworld package (and textworld); skipped with the install command when missing."""
    return pytest.importorskip("alfworld", reason="alfworld is not installed: pip install alfworld==0.4.2")


@pytest.fixture(autouse=True)
def _alfworld_data_env(monkeypatch):
    """``ALFWORLD_DATA`` points at the shipped games during each test (restored afterwards): importing alfworld with
    it unset would create ~/.cache/alfworld, and the code under test may set it. Tests of the unset case delete it."""
    monkeypatch.setenv("ALFWORLD_DATA", str(SHIPPED_ALFWORLD))


@pytest.fixture
def scripted_agent():
    """The ``ScriptedAgent`` class (test modules cannot import conftest under ``--import-mode=importlib``)."""
    return ScriptedAgent


@pytest.fixture(scope="session")
def byte_tokenizer():
    """The project's offline byte-level tokenizer with a ChatML template (the tiny test model's)."""
    from resrl.models.tiny import build_byte_tokenizer

    return build_byte_tokenizer()


class ScriptedAgent:
    """A sampler whose replies come from ``script[task][turn]`` (the task read from the first user message of the
    prompt, the turn from the number of assistant turns). ``wrap`` formats an action into a reply."""

    def __init__(self, tokenizer, script: dict[str, list[str]], wrap: str = "<action>{}</action>") -> None:
        self.tok, self.script, self.wrap = tokenizer, script, wrap
        self.calls = 0

    def generate_from_ids(self, prompts, params):
        self.calls += 1
        out = []
        for p in prompts:
            text = self.tok.decode(p, skip_special_tokens=False)
            task = re.search(r"Your task is to: (.*)", text).group(1).strip()
            turn = text.count("<|im_start|>assistant") - 1
            actions = self.script[task]
            reply = self.wrap.format(actions[turn]) if turn < len(actions) else "<action>look</action>"
            ids = self.tok(reply, add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
            out.append(Rollout(0, 0, list(p), ids, reply, [-0.5] * len(ids), "stop"))
        return out
