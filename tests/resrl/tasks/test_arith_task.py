"""arith: determinism, disjoint splits, correct answers (recomputed from the question text), config errors."""

from __future__ import annotations

import re

import pytest

from resrl.tasks import MATH_INSTRUCTION, ArithConfig, ArithTask, make_task
from resrl.tasks.arith import DEMOS, LEVELS, generate, split_of
from resrl.tasks.rewards import last_boxed

_L12 = re.compile(r"^What is (\d+) \+ (\d+)(?: - (\d+))?\?$")
_BUY = re.compile(
    r"^\w+ has (\d+) (\w+)\. \w+ buys (\d+) more \2 and then gives (\d+) \2 to a friend\. How many"
)
_BAGS = re.compile(
    r"^\w+ buys (\d+) bags of (\w+) with (\d+) \2 in each bag and then loses (\d+) \2\. How many"
)


def recompute(question: str) -> int:
    """The answer worked out independently from the question text."""
    if m := _L12.match(question):
        a, b, c = (int(g) if g else 0 for g in m.groups())
        return a + b - c
    if m := _BUY.match(question):
        return int(m[1]) + int(m[3]) - int(m[4])
    if m := _BAGS.match(question):
        return int(m[1]) * int(m[3]) - int(m[4])
    raise AssertionError(f"unrecognised question: {question!r}")


@pytest.mark.parametrize("level", LEVELS)
def test_answers_are_correct_and_nonnegative(level):
    task = ArithTask(ArithConfig(level=level, seed=3))
    for split in ("train", "test"):
        for p in task.problems(split, limit=200):
            assert int(p.answer) == recompute(p.meta["question"])
            assert int(p.answer) >= 0


def test_level_shapes():
    assert _L12.match(generate(0, 1, "train", 0)[0]).group(3) is None  # a + b
    assert _L12.match(generate(0, 2, "train", 0)[0]).group(3) is not None  # a + b - c
    assert not _L12.match(generate(0, 3, "train", 0)[0])  # word problem


def test_deterministic_per_seed_and_index():
    a = [generate(7, 2, "train", i) for i in range(50)]
    b = [generate(7, 2, "train", i) for i in range(50)]
    c = [generate(8, 2, "train", i) for i in range(50)]
    assert a == b
    assert a != c
    assert len(set(a)) > 40  # indices give different problems


@pytest.mark.parametrize("level", LEVELS)
def test_splits_never_share_a_question(level):
    train = {generate(s, level, "train", i)[0] for s in (0, 1) for i in range(2000)}
    test = {generate(s, level, "test", i)[0] for s in (0, 1) for i in range(300)}
    assert not train & test
    assert all(split_of(q) == "train" for q in train)
    assert all(split_of(q) == "test" for q in test)


def test_problem_fields_and_prompt():
    task = make_task("arith", level=2, seed=5)
    p = task.get("test", 4)
    assert p.id == "arith-l2-s5-test-4"
    question = {"role": "user", "content": f"{p.meta['question']}\n\n{MATH_INSTRUCTION}"}
    demo_q, demo_a = DEMOS[2]
    assert p.prompt_messages == [
        {"role": "user", "content": f"{demo_q}\n\n{MATH_INSTRUCTION}"},
        {"role": "assistant", "content": demo_a},
        question,
    ]
    assert make_task("arith", level=2, seed=5, few_shot=0).get("test", 4).prompt_messages == [question]
    assert "\\boxed{}" in MATH_INSTRUCTION
    ids = [q.id for q in task.problems("train", limit=100)]
    assert len(set(ids)) == 100
    assert task.size("test") == 500 and task.enable_thinking is False


def test_errors_name_the_bad_value():
    task = make_task("arith")
    with pytest.raises(ValueError, match="no split 'dev'; valid splits: train, test"):
        task.size("dev")
    with pytest.raises(IndexError, match=r"test index 500 out of range \[0, 500\)"):
        task.get("test", 500)
    with pytest.raises(ValueError, match=r"level must be one of \(1, 2, 3\), got 4"):
        make_task("arith", level=4)
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['levle'\] for task 'arith'"):
        make_task("arith", levle=2)
    with pytest.raises(ValueError, match="few_shot must be 0 or 1, got 3"):
        make_task("arith", few_shot=3)
    with pytest.raises(ValueError, match="unknown task 'gsm9k'; valid tasks: arith, dapo_math"):
        make_task("gsm9k")


def test_reward_is_pluggable():
    """A reward function gives correctness; the task maps it to its scores (default +1 / -1)."""
    assert ArithTask(reward=lambda response, answer: True).reward("anything", "3") == 1.0
    assert ArithTask(reward=lambda response, answer: 0.0).reward("anything", "3") == -1.0
    with pytest.raises(
        ValueError, match=r"reward function returned 0.25; a reward function returns correctness"
    ):
        ArithTask(reward=lambda response, answer: 0.25).reward("anything", "3")
    local = make_task("arith", reward="boxed_int")
    assert local.reward("\\boxed{15}", "15") == 1.0
    assert local.reward("15", "15") == -1.0
    assert local.is_correct("\\boxed{15}", "15") and not local.is_correct("15", "15")


def test_scores_from_config():
    assert (make_task("arith").correct_score, make_task("arith").wrong_score) == (1.0, -1.0)  # arith.yaml
    zero_one = make_task("arith", reward="boxed_int", wrong_score=0.0)
    assert zero_one.reward("\\boxed{15}", "15") == 1.0 and zero_one.reward("15", "15") == 0.0
    scaled = ArithTask(ArithConfig(reward="boxed_int", correct_score=2, wrong_score=-0.5))
    assert scaled.reward("\\boxed{15}", "15") == 2.0 and scaled.reward("\\boxed{1}", "15") == -0.5
    with pytest.raises(ValueError, match=r"^task.correct_score must be > 0 .*got 0.0$"):
        make_task("arith", correct_score=0.0)
    with pytest.raises(ValueError, match=r"^task.wrong_score must be <= 0 .*got 0.5$"):
        make_task("arith", wrong_score=0.5)
    with pytest.raises(ValueError, match=r"^task.wrong_score must be a finite number, got 'low'$"):
        make_task("arith", wrong_score="low")
    with pytest.raises(ValueError, match=r"^task.correct_score must be a finite number, got True$"):
        make_task("arith", correct_score=True)


def test_arith_refuses_the_answer_line_reward():
    msg = r"^task.reward='dapo' reads an 'Answer:' line but the arith prompt asks for \\boxed\{\}; "
    with pytest.raises(ValueError, match=msg):
        make_task("arith", reward="dapo")
    with pytest.raises(ValueError, match=msg):
        ArithTask(reward="dapo")


@pytest.mark.parametrize("level", LEVELS)
def test_demonstrations_are_right_and_never_a_task_question(level):
    demo_q, demo_a = DEMOS[level]
    assert int(last_boxed(demo_a)) == recompute(demo_q)
    generated = {
        generate(s, level, split, i)[0] for s in (0, 1) for split in ("train", "test") for i in range(1000)
    }
    assert demo_q not in generated
