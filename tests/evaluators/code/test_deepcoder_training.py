"""DeepCoder as a training task: its three test formats, the sandboxed all-tests-pass reward (hand-checked
programs), and the refusal of the weaker sandbox mode in training unless the user opts in."""

from __future__ import annotations

import json

import pytest

from evaluators.code import training
from evaluators.code.training import deepcoder_reward, normalise_tests
from resrl.tasks import make_task


def test_the_three_test_formats_normalise_alike():
    lcb = json.dumps([{"input": "1\n", "output": "2\n", "testtype": "stdin"}])
    assert normalise_tests(lcb, {}) == {"kind": "stdin", "fn_name": None, "tests": [["1\n", "2\n"]]}
    lcb_fn = json.dumps([{"input": "3", "output": "9", "testtype": "functional"}])
    assert normalise_tests(lcb_fn, {"func_name": "sq"})["fn_name"] == "sq"
    prime = json.dumps([{"input": "a\n", "output": "b\n"}])
    assert normalise_tests(prime, {})["kind"] == "stdin"
    taco_call = json.dumps({"inputs": [[2, 3]], "outputs": [[5]], "fn_name": "add"})
    assert normalise_tests(taco_call, {}) == {
        "kind": "functional",
        "fn_name": "add",
        "tests": [["2\n3", "5"]],
    }


def test_at_most_fifteen_tests_the_longest_inputs():
    many = json.dumps({"inputs": ["x" * k for k in range(1, 21)], "outputs": ["y"] * 20})
    kept = normalise_tests(many, {})["tests"]
    assert len(kept) == 15 and len(kept[0][0]) == 20 and min(len(t[0]) for t in kept) == 6


@pytest.fixture
def allow_fallback(monkeypatch):
    monkeypatch.setenv(training.FALLBACK_ENV, "allow")


def test_reward_by_hand(allow_fallback):
    task = make_task("deepcoder_tiny")
    sum_answer = task.get("train", 0).answer
    right = "<think>add them</think>\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    wrong = "```python\na, b = map(int, input().split())\nprint(a - b)\n```"
    assert deepcoder_reward(right, sum_answer) == 1.0
    assert deepcoder_reward(wrong, sum_answer) == 0.0  # passes no test ("1 2" -> -1)
    assert deepcoder_reward("print(3)", sum_answer) == 0.0  # no code block: 0, as rLLM
    square = task.get("train", 4).answer
    assert deepcoder_reward("```python\ndef square(x):\n    return x * x\n```", square) == 1.0
    assert (
        deepcoder_reward("```python\ndef square(x):\n    return x + x\n```", square) == 0.0
    )  # 3 -> 6, not 9
    assert task.reward(right, sum_answer) == 1.0 and task.reward(wrong, sum_answer) == -1.0


def test_training_refuses_the_fallback_sandbox_without_opt_in(monkeypatch):
    from evaluators.code.sandbox.settings import SandboxError

    monkeypatch.delenv(training.FALLBACK_ENV, raising=False)
    monkeypatch.setattr("evaluators.code.sandbox.detect_mode", lambda: "fallback")
    with pytest.raises(SandboxError, match="RESRL_SANDBOX_FALLBACK=allow"):
        training.training_sandbox()
    monkeypatch.setattr("evaluators.code.sandbox.detect_mode", lambda: "namespace")
    assert training.training_sandbox().mode == "namespace"


def test_missing_data_names_source_and_command():
    with pytest.raises(
        FileNotFoundError, match="agentica-org/DeepCoder-Preview-Dataset.*huggingface-cli download"
    ):
        make_task("deepcoder").check_data()
