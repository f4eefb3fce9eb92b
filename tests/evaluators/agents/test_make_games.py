"""The game generator: ALFRED-style names, PDDL facts from ALFWorld's tables, planner-solved games."""

import json

import pytest

from evaluators.agents.alfred_problem import Scene, TaskSpec, build_game, build_problem, mangle

SCENE = Scene(
    "test-kitchen",
    receptacles=(("Fridge", 1), ("CounterTop", 1), ("SinkBasin", 1), ("Cabinet", 2)),
    objects=(("Apple", "CounterTop", 0), ("Mug", "Cabinet", 1)),
)


def test_mangle_like_alfworld():
    assert (
        mangle("Sink|+00.71|+00.82|-01.77|SinkBasin")
        == "Sink_bar__plus_00_dot_71_bar__plus_00_dot_82_bar__minus_01_dot_77_bar_SinkBasin"
    )
    assert mangle("loc|3|-4|1|45") == "loc_bar_3_bar__minus_4_bar_1_bar_45"


def test_problem_facts_come_from_alfworld_tables(alfworld_engine):
    text = build_problem(SCENE, TaskSpec("pick_cool_then_place_in_recep", "Apple", "CounterTop"))
    assert text == build_problem(
        SCENE, TaskSpec("pick_cool_then_place_in_recep", "Apple", "CounterTop")
    )  # seeded
    assert "(:domain alfred)" in text
    assert "(canContain FridgeType AppleType)" in text and "(canContain CabinetType MugType)" in text
    assert "(canContain CabinetType AppleType)" not in text  # ALFRED's cabinets do not hold apples
    apple = next(ln.split()[1] for ln in text.splitlines() if ln.strip().startswith("(objectType Apple_bar_"))
    assert f"(coolable {apple})" in text and f"(heatable {apple})" in text and f"(pickupable {apple})" in text
    assert sum(ln.strip().startswith("(openable ") for ln in text.splitlines()) == 3  # fridge + 2 cabinets
    assert "_bar_SinkBasin - receptacle" in text and "(isCool ?o)" in text and "CounterTopType" in text
    with pytest.raises(ValueError, match="task needs a Egg"):
        build_problem(SCENE, TaskSpec("pick_heat_then_place_in_recep", "Egg", "CounterTop"))
    with pytest.raises(ValueError, match="needs toggle_target"):
        TaskSpec("look_at_obj_in_light", "Book")


def test_generated_game_is_solved_by_the_planner_and_won(alfworld_engine, tmp_path):
    from evaluators.agents.make_games import solve_and_check

    game, traj = build_game(SCENE, TaskSpec("pick_clean_then_place_in_recep", "Mug", "Fridge"))
    assert traj["task_type"] == "pick_clean_then_place_in_recep" and "UNKNOWN GOAL" not in game["grammar"]
    assert f"Your task is to: {traj['task_desc']}" in game["grammar"]
    trial = (
        tmp_path
        / "json_2.1.1"
        / "valid_seen"
        / "pick_clean_then_place_in_recep-Mug-None-Fridge-1"
        / "trial_x"
    )
    trial.mkdir(parents=True)
    (trial / "game.tw-pddl").write_text(json.dumps(game))
    plan = solve_and_check(trial / "game.tw-pddl", tmp_path)
    assert plan[0] == "go to cabinet 1" or plan[0] == "go to cabinet 2"
    assert "clean mug 1 with sinkbasin 1" in plan and plan[-1] == "move mug 1 to fridge 1"


@pytest.mark.slow  # about 40 s: rebuilds and re-solves all 18 games
def test_generator_reproduces_the_shipped_games(alfworld_engine, tmp_path):
    from evaluators.agents.make_games import make_alfworld_games
    from resrl.paths import REPO_ROOT

    shipped = REPO_ROOT / "data" / "agents" / "alfworld"
    for f in make_alfworld_games(tmp_path):
        assert f.read_bytes() == (shipped / f.relative_to(tmp_path)).read_bytes(), f
