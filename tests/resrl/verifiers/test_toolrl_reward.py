"""ToolRL's reward (resrl.verifiers.toolrl) against hand-computed scores."""

from __future__ import annotations

import pytest

from resrl.verifiers.toolrl import calls_score, format_reward, match_score, toolrl_reward

GT = '<think> call it </think>\n<tool_call>\n{"name": "get_weather", "parameters": {"city": "Paris", "unit": "c"}}\n</tool_call>'


def test_match_score_is_a_multiset_jaccard():
    assert match_score(["a", "b"], ["a", "b"]) == 1.0
    assert match_score([], ["a"]) == 0.0
    assert match_score(["a", "a", "b"], ["a", "c"]) == pytest.approx(1 / (3 + 2 - 1))


def test_exact_call_scores_four():
    pred = '<think> ok </think>\n<tool_call>\n{"name": "get_weather", "parameters": {"city": "Paris", "unit": "c"}}\n</tool_call>'
    assert format_reward(pred, GT) == 1.0
    assert toolrl_reward(pred, GT) == pytest.approx(4.0)


def test_partial_credit_by_hand():
    # right name, one of two values right, both keys: S = 1 (names) + 1 (keys) + 1 (value) = 3; S_max = 1 + (1 + 2) = 4
    pred = '<think> x </think>\n<tool_call>\n{"name": "get_weather", "parameters": {"city": "Paris", "unit": "f"}}\n</tool_call>'
    assert toolrl_reward(pred, GT) == pytest.approx(1.0 + 6 * 3 / 4 - 3)
    gt = [{"name": "f", "parameters": {"a": 1}}, {"name": "g", "parameters": {}}]
    # names: match([f, g], [f]) = 1/2; f's keys match (1) + value equal (1) = 2; g has no candidate: S = 2.5
    # S_max = 1 + (1 + 1) + (1 + 0) = 4
    assert calls_score(gt, [{"name": "f", "parameters": {"a": 1}}]) == pytest.approx(6 * 2.5 / 4 - 3)


def test_bad_format_and_missing_calls():
    no_think = (
        '<tool_call>\n{"name": "get_weather", "parameters": {"city": "Paris", "unit": "c"}}\n</tool_call>'
    )
    assert format_reward(no_think, GT) == 0.0
    assert toolrl_reward(no_think, GT) == pytest.approx(0.0 + 3.0)  # the calls are still exact
    assert toolrl_reward("<think> hm </think>", GT) == pytest.approx(0.0 - 3.0)  # no <tool_call>: -3
    broken = "<think> a </think>\n<tool_call>\n{not json}\n</tool_call>"
    assert toolrl_reward(broken, GT) == pytest.approx(1.0 - 3.0)
    text_gt = "<think> none </think>\n<response> hi </response>"
    assert toolrl_reward("<think> a </think>\n<response> hello </response>", text_gt) == 1.0  # correctness 0


def test_scored_task_keeps_the_score():
    from resrl.tasks import make_task

    task = make_task("toolrl_tiny")
    p = task.get("train", 0)
    assert p.prompt_messages[0]["role"] == "system" and "get_weather" in p.prompt_messages[0]["content"]
    assert task.reward(p.answer, p.answer) == pytest.approx(
        4.0
    )  # the ground truth itself: format 1 + calls 3
    assert task.reward("nothing", p.answer) == pytest.approx(-3.0)
    with pytest.raises(FileNotFoundError, match="git clone https://github.com/qiancheng0/ToolRL"):
        make_task("toolrl").check_data()
