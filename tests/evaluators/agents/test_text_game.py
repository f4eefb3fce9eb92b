"""TextGameEnv on the shipped games, through the real engines (ALFWorld's PDDL engine + wrappers, TextWorld's
Z-machine): a scripted policy following the walkthrough wins; too few steps lose; bad replies are counted, never
fatal; observations and prompts carry ALFWorld's text."""

import pytest

from evaluators.agents.data import find_alfworld_games, find_textworld_games
from evaluators.agents.prompting import alfworld_prompt, textworld_prompt
from evaluators.agents.text_game import TextGameEnv, clean_textworld_feedback, split_alfworld_intro
from resrl.paths import REPO_ROOT

ALFWORLD_DIR = REPO_ROOT / "data" / "agents" / "alfworld"
TEXTWORLD_DIR = REPO_ROOT / "data" / "agents" / "textworld"


def _alf_game(task_type):
    return next(g for g in find_alfworld_games(ALFWORLD_DIR, "valid_unseen") if g.task_type == task_type)


def _play(env, replies):
    return [env.step(r) for r in replies]


@pytest.mark.parametrize("task_type", ["pick_cool_then_place_in_recep", "pick_two_obj_and_place"])
def test_walkthrough_wins_alfworld_game(alfworld_engine, task_type):
    env = TextGameEnv(_alf_game(task_type), prompt=alfworld_prompt(), max_steps=50, expert=True)
    opening = env.reset()
    assert [m["role"] for m in opening] == ["system", "user"]
    assert "ALFRED" in opening[0]["content"]
    user = opening[1]["content"]
    assert user.startswith(f"Your task is to: {env.task}")
    assert "You are in the middle of a room. Looking quickly around you, you see" in user
    assert "Welcome to TextWorld" not in user and "'help'" not in user
    assert "<think> </think>" in user and "<action> </action>" in user
    plan = env.walkthrough
    assert len(plan) >= 4
    steps = _play(env, [f"<think>step {i}</think><action>{a}</action>" for i, a in enumerate(plan)])
    assert [s.done for s in steps] == [False] * (len(plan) - 1) + [True]
    assert [s.reward for s in steps] == [0.0] * (len(plan) - 1) + [1.0]
    assert not any(s.invalid for s in steps)
    assert env.score() == {"reward": 1.0, "success": 1.0, "steps": float(len(plan)), "invalid_actions": 0.0}
    assert steps[0].messages[0]["content"].startswith("Step 1/50. Your current observation is: You arrive at")
    env.close()


def test_same_game_fails_when_max_steps_is_too_small(alfworld_engine):
    game = _alf_game("pick_heat_then_place_in_recep")
    probe = TextGameEnv(game, prompt=alfworld_prompt(), max_steps=50, expert=True)
    probe.reset()
    plan = probe.walkthrough
    probe.close()
    env = TextGameEnv(game, prompt=alfworld_prompt(), max_steps=len(plan) - 1, expert=True)
    env.reset()
    steps = _play(env, [f"<action>{a}</action>" for a in plan[: len(plan) - 1]])
    assert steps[-1].done and not any(s.reward for s in steps)
    assert env.score()["success"] == 0.0 and env.score()["steps"] == len(plan) - 1
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(f"<action>{plan[-1]}</action>")


def test_invalid_replies_are_counted_and_not_fatal(alfworld_engine):
    env = TextGameEnv(
        _alf_game("pick_and_place_simple"), prompt=alfworld_prompt(think=False), max_steps=50, expert=True
    )
    env.reset()
    plan = env.walkthrough
    unreadable = env.step("I should probably look for the object first.")
    assert unreadable.invalid and not unreadable.done and unreadable.info["action"] is None
    assert "Invalid action: no action found" in unreadable.messages[0]["content"]
    assert (
        "Your admissible actions of the current situation are: ['go to" in unreadable.messages[0]["content"]
    )
    inadmissible = env.step("<action>fly to the moon</action>")
    assert inadmissible.invalid and not inadmissible.done
    assert (
        "Your current observation is: Nothing happens." in inadmissible.messages[0]["content"]
    )  # ALFWorld's reply
    steps = _play(env, [f"<action>{a}</action>" for a in plan])
    assert steps[-1].done and steps[-1].reward == 1.0
    assert env.score() == {
        "reward": 1.0,
        "success": 1.0,
        "steps": float(len(plan) + 2),
        "invalid_actions": 2.0,
    }


@pytest.mark.slow  # about 60 s: 18 games (make_games checks the same when it writes them)
def test_all_shipped_games_are_won_by_their_walkthrough(alfworld_engine):
    games = find_alfworld_games(ALFWORLD_DIR, "valid_unseen") + find_alfworld_games(ALFWORLD_DIR, "train")
    assert {g.task_type for g in games} == {
        "pick_and_place_simple",
        "look_at_obj_in_light",
        "pick_clean_then_place_in_recep",
        "pick_heat_then_place_in_recep",
        "pick_cool_then_place_in_recep",
        "pick_two_obj_and_place",
    }
    for g in games:
        env = TextGameEnv(g, prompt=alfworld_prompt(), max_steps=50, expert=True)
        env.reset()
        for a in env.walkthrough:
            env.step(f"<action>{a}</action>")
        assert env.won, g.game_id
        env.close()


def test_textworld_game_won_and_lost(textworld_engine):
    game = find_textworld_games(TEXTWORLD_DIR)[1]
    env = TextGameEnv(game, prompt=textworld_prompt(), max_steps=10, expert=True)
    opening = env.reset()
    assert "TextWorld" in env.task and "objective" in env.task  # the game's objective text
    assert env.task not in opening[1]["content"].split("Your current observation is:")[1]
    assert "$$" not in opening[1]["content"]  # the ASCII banner is gone
    plan = env.walkthrough
    steps = _play(env, [f"Action: {a}" for a in plan])
    assert steps[-1].done and steps[-1].reward == 1.0 and env.score()["success"] == 1.0
    short = TextGameEnv(game, prompt=textworld_prompt(), max_steps=len(plan) - 1, expert=True)
    short.reset()
    steps = _play(short, [f"<action>{a}</action>" for a in plan[:-1]])
    assert steps[-1].done and short.score()["success"] == 0.0


def test_split_alfworld_intro():
    feedback = (
        "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly around you, "
        "you see a cabinet 1, and a fridge 1.\n\nYour task is to: put a cool apple in cabinet."
    )
    task, obs = split_alfworld_intro(feedback)
    assert task == "put a cool apple in cabinet."
    assert (
        obs
        == "You are in the middle of a room. Looking quickly around you, you see a cabinet 1, and a fridge 1."
    )


def test_clean_textworld_feedback():
    raw = (
        "\n  ________  ________\n |        \\|        \\\n  \\$$$$$$$$| $$$$$$$$\n\nWelcome! Your objective is X.\n\n"
        "-= Studio =-\nYou are in a studio.\n\n\n\n>     -= Studio =-0/2\n"
    )
    assert (
        clean_textworld_feedback(raw, "Your objective is X.")
        == "Welcome!\n\n-= Studio =-\nYou are in a studio."
    )
