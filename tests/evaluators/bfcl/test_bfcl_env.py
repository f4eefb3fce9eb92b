"""BFCLEnv against the real bfcl_eval executable classes and checker: ground-truth replays are valid, altered ones
invalid; turn sequencing, held-out functions, the step limit, unknown functions, isolation between episodes."""

from __future__ import annotations

import json

import pytest

pytest.importorskip(
    "bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker",
    reason="bfcl_eval is not importable (pip install --no-deps bfcl-eval==2026.3.23)",
)

from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils  # noqa: E402

from evaluators.bfcl.calls import parse_reply  # noqa: E402
from evaluators.bfcl.data import CATEGORIES, load_category  # noqa: E402
from evaluators.bfcl.env import BFCLEnv  # noqa: E402


@pytest.fixture(scope="module")
def entries():
    """The first three entries of each category (installed package data)."""
    return {c: load_category(c, limit=3) for c in CATEGORIES}


def leftover_instances(tag: str) -> list[str]:
    """API instances still cached by bfcl_eval under an episode's model name."""
    return [k for k in vars(multi_turn_utils) if k.startswith(tag + "_") and k.endswith("_instance")]


def normal(src: str) -> str:
    """A call string as the parser renders it (``f(a=1,b=2)`` -> ``f(a=1, b=2)``)."""
    (c,) = parse_reply(src).calls
    return c.source()


@pytest.mark.parametrize("category", CATEGORIES)
def test_ground_truth_replay_is_valid_in_both_formats(entries, category, as_python, as_tool_calls, player):
    for e in entries[category]:
        for fmt, to_reply in (
            ("prompt", as_python),
            ("fc", lambda c, e=e: as_tool_calls(c, e.involved_classes)),
        ):
            env = BFCLEnv(e, call_format=fmt)
            steps = player(env, [[to_reply(calls)] if calls else [] for calls in e.ground_truth])
            assert steps[-1].done and steps[-1].reward == 1.0, (e.id, fmt, env.check)
            assert env.score() == {**env.score(), "reward": 1.0, "success": 1.0}
            assert env.check == {"valid": True}
            # what the checker got: one step per non-empty turn, the ground-truth calls (re-rendered)
            if fmt == "prompt":
                assert env.turn_calls == [
                    [[normal(c) for c in calls]] if calls else [] for calls in e.ground_truth
                ]
            else:  # positional arguments came back named
                assert [[len(s) for s in t] for t in env.turn_calls] == [
                    [len(c)] if c else [] for c in e.ground_truth
                ]
            tag = env._session.tag
            env.close()
            assert leftover_instances(tag) == []


@pytest.mark.parametrize("category", CATEGORIES)
def test_dropped_call_is_invalid(entries, category, as_python, player):
    e = entries[category][0]
    t = next(i for i, calls in enumerate(e.ground_truth) if calls)
    turns = [list(c) for c in e.ground_truth]
    turns[t] = turns[t][:-1]
    env = BFCLEnv(e)
    steps = player(env, [[as_python(c)] if c else [] for c in turns])
    assert steps[-1].done and steps[-1].reward == 0.0
    assert env.score()["reward"] == 0.0 and env.score()["success"] == 0.0
    assert env.check["valid"] is False and env.check["error_type"].startswith("multi_turn:")
    env.close()


def test_changed_argument_is_invalid(as_python, player):
    (e,) = load_category("base", limit=1)
    # multi_turn_base_0 turn 0: cd(folder='document'), mkdir(dir_name='temp'), mv(source=..., destination='temp')
    gt = [list(c) for c in e.ground_truth]
    i = next(k for k, c in enumerate(gt[0]) if c.startswith("mv("))
    gt[0][i] = gt[0][i].replace("destination='temp'", "destination='temp2'")
    assert gt[0][i] != e.ground_truth[0][i]
    env = BFCLEnv(e)
    player(env, [[as_python(c)] if c else [] for c in gt])
    assert env.score()["reward"] == 0.0 and env.check["valid"] is False
    env.close()


def test_turns_follow_the_question_and_tool_results_come_back(as_python):
    (e,) = load_category("base", limit=1)
    env = BFCLEnv(e)
    opening = env.reset()
    assert [m["role"] for m in opening] == ["system", "user"]
    assert opening[1]["content"] == e.question[0][0]["content"]
    assert (
        '"name": "ls"' in opening[0]["content"]
        and "[func_name1(params_name1=params_value1" in opening[0]["content"]
    )
    step = env.step(as_python(e.ground_truth[0]))
    assert not step.done and [m["role"] for m in step.messages] == ["tool"] * len(e.ground_truth[0])
    assert [m["name"] for m in step.messages] == e.ground_truth[0]
    assert not any(m["content"].startswith("Error during execution") for m in step.messages)
    step = env.step("All done.")  # no calls: the turn ends, the next user question comes
    assert step.messages == e.question[1] and not step.done and step.info["end_of_turn"]
    for _ in range(e.num_turns - 2):
        assert not env.step("").done
    last = env.step("")
    assert last.done and last.messages == [] and last.reward == 0.0
    assert env.check["valid"] is False  # only turn 0 was done
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step("")
    env.close()


def test_miss_func_holds_functions_out_until_their_turn(as_python):
    e = next(x for x in load_category("miss_func", limit=5) if x.held_out)
    ((turn, docs),) = e.held_out.items()
    names = {d["name"] for d in docs}
    for fmt in ("prompt", "fc"):
        env = BFCLEnv(e, call_format=fmt)
        opening = env.reset()
        offered = {d["name"] for d in env.functions}
        assert not names & offered
        if fmt == "prompt":
            listed = json.loads(opening[0]["content"].split("that you can invoke.\n", 1)[1])
            assert {d["name"] for d in listed} == offered
            assert env.tools is None
        else:
            assert {t["function"]["name"] for t in env.tools} == offered and opening == e.question[0]
            assert all(t["function"]["parameters"]["type"] == "object" for t in env.tools)
        msgs = []
        for t in range(turn):
            if e.ground_truth[t]:
                env.step(as_python(e.ground_truth[t]))
            msgs = env.step("").messages
        assert len(msgs) == 1 and msgs[0]["role"] == "user"
        assert "I have updated some more functions you can choose from. What about now?" in msgs[0]["content"]
        assert all(f"'name': '{n}'" in msgs[0]["content"] for n in names)
        assert names <= {d["name"] for d in env.functions}
        env.close()


def test_step_limit_forces_quit_and_fails_the_entry():
    (e,) = load_category("base", limit=1)
    env = BFCLEnv(e, max_turn_steps=3)
    env.reset()
    steps = [env.step("[pwd()]") for _ in range(4)]  # the 4th executing reply exceeds 3
    assert [s.done for s in steps] == [False, False, False, True]
    assert steps[-1].info["force_quit"] and env.force_quit
    assert env.score()["reward"] == 0.0 and env.score()["force_quit"] == 1.0
    assert env.check["error_type"] == "multi_turn:force_terminated"
    env.close()


def test_unknown_functions_are_not_executed(tmp_path, as_python):
    (e,) = load_category("base", limit=1)
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    env = BFCLEnv(e)
    env.reset()
    step = env.step(f"[open(file='{target}', mode='w'), pwd()]")
    assert step.invalid and step.info["unknown_functions"] == ["open"]
    assert step.messages[0]["content"] == "Error during execution: name 'open' is not defined"
    assert not step.messages[1]["content"].startswith("Error")
    assert target.read_text() == "keep me"
    assert env.turn_calls == [[["pwd()"]]]
    env.close()


def test_malformed_reply_ends_the_turn_and_is_invalid():
    (e,) = load_category("base", limit=1)
    env = BFCLEnv(e)
    env.reset()
    step = env.step("[ls(a=True), cd(")
    assert step.invalid and step.info["end_of_turn"] and step.messages == e.question[1]
    env.close()


def test_episodes_of_one_entry_do_not_share_state(as_python):
    (e,) = load_category("base", limit=1)
    a, b = BFCLEnv(e), BFCLEnv(e)
    a.reset()
    b.reset()
    a.step(as_python(["mkdir(dir_name='only_in_a')"]))
    ls_b = b.step("[ls()]").messages[0]["content"]
    ls_a = a.step("[ls()]").messages[0]["content"]
    assert "only_in_a" in ls_a and "only_in_a" not in ls_b and "document" in ls_b
    # a second episode of the same entry after a reset starts from the initial state again
    a.reset()
    assert "only_in_a" not in a.step("[ls()]").messages[0]["content"]
    tags = [a._session.tag, b._session.tag]
    assert all(leftover_instances(t) for t in tags)
    a.close()
    b.close()
    assert [leftover_instances(t) for t in tags] == [[], []]


def test_score_of_a_cut_off_episode_is_invalid(as_python):
    (e,) = load_category("base", limit=1)
    env = BFCLEnv(e)
    env.reset()
    env.step(as_python(e.ground_truth[0]))
    s = env.score()  # the runner stopped it mid-turn (max_turns / max_tokens)
    assert s["reward"] == 0.0 and s["turns_completed"] == 0.0
    assert env.check["error_type"] == "multi_turn:force_terminated"
    env.close()
