"""Data folders: the shipped games are found per split and task type; missing or empty folders give an error that
names the folder and the command that fills it."""

import json

import pytest

from evaluators.agents.data import (
    canonical_split,
    clear_game_cache,
    find_alfworld_games,
    find_textworld_games,
    resolve_alfworld_dir,
    shipped_alfworld_dir,
)
from evaluators.agents.tasks import TASK_TYPES, short_task_type, task_type_from_folder


def test_shipped_games_cover_every_task_type():
    unseen = find_alfworld_games(shipped_alfworld_dir(), "valid_unseen")
    train = find_alfworld_games(shipped_alfworld_dir(), "train")
    assert len(unseen) == 12 and len(train) == 6
    assert sorted(g.task_type for g in unseen) == sorted(list(TASK_TYPES) * 2)
    assert sorted(g.task_type for g in train) == sorted(TASK_TYPES)
    g = unseen[0]
    assert g.kind == "alfworld" and g.split == "valid_unseen" and g.path.name == "game.tw-pddl"
    assert g.game_id.startswith(g.task_type + "-")
    assert [x.game_id for x in unseen] == sorted(x.game_id for x in unseen)
    only = find_alfworld_games(shipped_alfworld_dir(), "test", task_types=["look_at_obj_in_light"])
    assert [x.task_type for x in only] == ["look_at_obj_in_light"] * 2


def test_missing_data_dir_names_the_folder_and_the_download_command(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        find_alfworld_games(missing, "valid_unseen")
    msg = str(err.value)
    assert f"ALFWorld data folder not found: {missing} (from data_dir)" in msg
    assert f"ALFWORLD_DATA={missing} alfworld-download" in msg and "pip install alfworld==0.4.2" in msg
    (tmp_path / "empty" / "json_2.1.1" / "valid_unseen").mkdir(parents=True)
    with pytest.raises(
        FileNotFoundError,
        match=r"(?s)no ALFWorld games \(game.tw-pddl\) under .*valid_unseen.*alfworld-download",
    ):
        find_alfworld_games(tmp_path / "empty", "valid_unseen")
    with pytest.raises(FileNotFoundError, match="(?s)TextWorld games folder not found.*tw-make custom"):
        find_textworld_games(missing)


def test_data_dir_resolution_order(monkeypatch, tmp_path):
    monkeypatch.delenv("ALFWORLD_DATA", raising=False)
    assert resolve_alfworld_dir(None) == (shipped_alfworld_dir(), "shipped")
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path))
    assert resolve_alfworld_dir(None) == (tmp_path, "ALFWORLD_DATA")
    assert resolve_alfworld_dir(str(tmp_path / "x")) == (tmp_path / "x", "data_dir")
    with pytest.raises(FileNotFoundError, match=f"{tmp_path} .from ALFWORLD_DATA."):
        find_alfworld_games(None, "train")


def test_unsolvable_and_sliced_games_are_skipped(tmp_path):
    root = tmp_path / "json_2.1.1" / "valid_seen"
    for name, solvable in (
        ("pick_and_place_simple-Mug-None-Desk-1", True),
        ("pick_and_place_simple-Mug-None-Shelf-2", False),
        ("pick_heat_then_place_in_recep-AppleSliced-None-Fridge-3", True),
    ):
        trial = root / name / "trial_T1"
        trial.mkdir(parents=True)
        (trial / "game.tw-pddl").write_text(json.dumps({"pddl_problem": "(define)", "solvable": solvable}))
    games = find_alfworld_games(tmp_path, "seen")
    assert [g.game_id for g in games] == ["pick_and_place_simple-Mug-None-Desk-1/trial_T1"]
    assert games[0].task_type == "pick_and_place_simple"  # from the folder name (no traj_data.json)
    (root / "pick_and_place_simple-Mug-None-Desk-1" / "trial_T1" / "game.tw-pddl").write_text("{not json")
    assert find_alfworld_games(tmp_path, "valid_seen") == games  # the scan is cached...
    clear_game_cache()  # ...until cleared
    with pytest.raises(ValueError, match="not a valid .tw-pddl"):
        find_alfworld_games(tmp_path, "valid_seen")


def test_split_and_task_type_names():
    assert canonical_split("unseen") == canonical_split("test") == "valid_unseen"
    assert canonical_split("eval_in_distribution") == "valid_seen"
    with pytest.raises(ValueError, match="unknown ALFWorld split 'dev'"):
        canonical_split("dev")
    assert [short_task_type(t) for t in TASK_TYPES] == ["pick", "look", "clean", "heat", "cool", "pick2"]
    assert (
        task_type_from_folder("pick_two_obj_and_place-Egg-None-DiningTable-912") == "pick_two_obj_and_place"
    )
    assert task_type_from_folder("trial_T2019") is None
    with pytest.raises(ValueError, match="unknown ALFWorld task type"):
        short_task_type("pick_and_place_with_movable_recep")
