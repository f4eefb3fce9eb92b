"""``python -m evaluators.agents.make_games [--out data/agents]``: build the project's small set of real games.

ALFWorld's own games are GitHub release assets (``alfworld-download``) that cannot be fetched here, so the project
ships games made from ALFWorld's shipped domain (``alfred.pddl``) and grammar (``alfred.twl2``) with hand-written
scenes (``SCENES`` below; ``alfred_problem`` turns them into PDDL problems). Each game is then *solved by the
planner* (``policy_commands`` from fast-downward, as ``alfworld-generate`` does) and the plan is *played through
the real environment* (``AlfredDemangler``/``AlfredInfos`` wrappers): a game is written only if the plan wins
and the game is not already won at the start. The plan is stored as the game's ``walkthrough`` with
``"solvable": true``.

Layout (ALFWorld's): ``<out>/alfworld/json_2.1.1/<split>/<task_type>-<Obj>-None-<Recep>-<n>/trial_gen_<scene>/``
with ``game.tw-pddl`` and ``traj_data.json``; splits ``valid_unseen`` (2 games per task type) and ``train``
(1 per type), in different rooms. Plain TextWorld games: ``<out>/textworld/tw_seed<k>.z8`` (+ ``.json``) from
TextWorld's generator (``tw-make custom`` settings: 2 rooms, 3 objects, quest length 2).

These are *not* ALFWorld's benchmark games: their rooms are smaller, and their scores say nothing about the paper's
numbers. They exist so that every piece (engine, wrappers, prompts, parser, runner, metrics) runs end to end here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from evaluators.agents.alfred_problem import Scene, TaskSpec, build_game
from evaluators.agents.data import GameSpec
from resrl.paths import data_dir as project_data_dir

# ---------------------------------------------------------------------------------------------- rooms
_KITCHEN_A = (
    ("Cabinet", 3),
    ("CounterTop", 2),
    ("Drawer", 2),
    ("Fridge", 1),
    ("Microwave", 1),
    ("SinkBasin", 1),
    ("StoveBurner", 2),
    ("CoffeeMachine", 1),
    ("DiningTable", 1),
    ("GarbageCan", 1),
)
_KITCHEN_A_OBJECTS = (
    ("Apple", "CounterTop", 0),
    ("Mug", "Cabinet", 1),
    ("Egg", "Fridge", 0),
    ("Potato", "DiningTable", 0),
    ("Tomato", "SinkBasin", 0),
    ("Knife", "Drawer", 0),
    ("Plate", "Cabinet", 0),
    ("Bread", "CounterTop", 1),
    ("Pot", "StoveBurner", 0),
    ("Spoon", "Drawer", 1),
    ("Cup", "DiningTable", 0),
)
_KITCHEN_B = (
    ("Cabinet", 2),
    ("CounterTop", 1),
    ("Drawer", 3),
    ("Fridge", 1),
    ("Microwave", 1),
    ("SinkBasin", 1),
    ("StoveBurner", 2),
    ("DiningTable", 1),
    ("Shelf", 1),
    ("GarbageCan", 1),
)
_KITCHEN_B_OBJECTS = (
    ("Bread", "DiningTable", 0),
    ("Tomato", "CounterTop", 0),
    ("Pan", "Cabinet", 1),
    ("Egg", "CounterTop", 0),
    ("Egg", "Fridge", 0),
    ("Lettuce", "Fridge", 0),
    ("Spatula", "Drawer", 2),
    ("Bowl", "Shelf", 0),
    ("Fork", "Drawer", 0),
)
_KITCHEN_C = (
    ("Cabinet", 4),
    ("CounterTop", 2),
    ("Drawer", 2),
    ("Fridge", 1),
    ("Microwave", 1),
    ("SinkBasin", 1),
    ("StoveBurner", 1),
    ("DiningTable", 1),
    ("GarbageCan", 1),
)
_KITCHEN_C_OBJECTS = (
    ("Plate", "DiningTable", 0),
    ("Cup", "CounterTop", 1),
    ("Lettuce", "CounterTop", 0),
    ("Potato", "Fridge", 0),
    ("Knife", "Drawer", 1),
    ("Mug", "Cabinet", 3),
    ("Apple", "SinkBasin", 0),
)
_BATHROOM = (
    ("Toilet", 1),
    ("SinkBasin", 2),
    ("BathtubBasin", 1),
    ("Cabinet", 2),
    ("CounterTop", 1),
    ("TowelHolder", 1),
    ("HandTowelHolder", 1),
    ("ToiletPaperHanger", 1),
    ("GarbageCan", 1),
    ("Shelf", 1),
)
_BATHROOM_OBJECTS = (
    ("SoapBar", "BathtubBasin", 0),
    ("Cloth", "CounterTop", 0),
    ("SprayBottle", "Shelf", 0),
    ("ToiletPaper", "Cabinet", 1),
    ("SoapBottle", "Toilet", 0),
    ("Candle", "CounterTop", 0),
)
_BEDROOM_A = (
    ("Bed", 1),
    ("Desk", 1),
    ("SideTable", 2),
    ("Drawer", 3),
    ("Dresser", 1),
    ("Shelf", 2),
    ("GarbageCan", 1),
    ("Safe", 1),
)
_BEDROOM_A_OBJECTS = (
    ("Book", "Bed", 0),
    ("DeskLamp", "SideTable", 1),
    ("CellPhone", "Desk", 0),
    ("AlarmClock", "Dresser", 0),
    ("Pen", "Drawer", 0),
    ("CD", "Drawer", 1),
    ("KeyChain", "Shelf", 0),
    ("Pillow", "Bed", 0),
)
_BEDROOM_B = (("Bed", 1), ("Desk", 1), ("SideTable", 1), ("Drawer", 2), ("Shelf", 3), ("GarbageCan", 1))
_BEDROOM_B_OBJECTS = (
    ("AlarmClock", "Shelf", 2),
    ("DeskLamp", "Desk", 0),
    ("Laptop", "Bed", 0),
    ("Pencil", "Drawer", 1),
    ("CreditCard", "SideTable", 0),
    ("CD", "Shelf", 0),
)
_BEDROOM_C = (("Bed", 1), ("Desk", 1), ("SideTable", 2), ("Drawer", 2), ("Dresser", 1), ("Shelf", 1))
_BEDROOM_C_OBJECTS = (
    ("CellPhone", "Dresser", 0),
    ("CD", "Shelf", 0),
    ("DeskLamp", "SideTable", 0),
    ("Book", "Desk", 0),
    ("Watch", "Drawer", 0),
)
_LIVINGROOM_A = (
    ("Sofa", 1),
    ("ArmChair", 2),
    ("CoffeeTable", 1),
    ("SideTable", 1),
    ("TVStand", 1),
    ("Drawer", 2),
    ("GarbageCan", 1),
    ("Shelf", 1),
)
_LIVINGROOM_A_OBJECTS = (
    ("RemoteControl", "CoffeeTable", 0),
    ("RemoteControl", "Sofa", 0),
    ("KeyChain", "SideTable", 0),
    ("Newspaper", "ArmChair", 1),
    ("Box", "Shelf", 0),
    ("CreditCard", "Drawer", 0),
)
_LIVINGROOM_B = (
    ("Sofa", 1),
    ("ArmChair", 1),
    ("CoffeeTable", 1),
    ("SideTable", 2),
    ("Shelf", 2),
    ("Drawer", 1),
)
_LIVINGROOM_B_OBJECTS = (
    ("Book", "CoffeeTable", 0),
    ("Book", "Shelf", 1),
    ("Pillow", "ArmChair", 0),
    ("Statue", "SideTable", 1),
    ("Laptop", "Sofa", 0),
)


def _scene(scene_id: str, room: tuple, objects: tuple) -> Scene:
    return Scene(scene_id=scene_id, receptacles=room, objects=objects)


#: (split, scene, task, folder number): every game the set holds.
SCENES: tuple[tuple[str, Scene, TaskSpec, int], ...] = (
    (
        "valid_unseen",
        _scene("gen-kitchen-a1", _KITCHEN_A, _KITCHEN_A_OBJECTS),
        TaskSpec("pick_and_place_simple", "Potato", "Fridge"),
        901,
    ),
    (
        "valid_unseen",
        _scene("gen-bathroom-a1", _BATHROOM, _BATHROOM_OBJECTS),
        TaskSpec("pick_and_place_simple", "SoapBar", "Toilet"),
        902,
    ),
    (
        "valid_unseen",
        _scene("gen-bedroom-a1", _BEDROOM_A, _BEDROOM_A_OBJECTS),
        TaskSpec("look_at_obj_in_light", "Book", toggle_target="DeskLamp"),
        903,
    ),
    (
        "valid_unseen",
        _scene("gen-bedroom-b1", _BEDROOM_B, _BEDROOM_B_OBJECTS),
        TaskSpec("look_at_obj_in_light", "AlarmClock", toggle_target="DeskLamp"),
        904,
    ),
    (
        "valid_unseen",
        _scene("gen-kitchen-a2", _KITCHEN_A, _KITCHEN_A_OBJECTS),
        TaskSpec("pick_clean_then_place_in_recep", "Mug", "CoffeeMachine"),
        905,
    ),
    (
        "valid_unseen",
        _scene("gen-bathroom-a2", _BATHROOM, _BATHROOM_OBJECTS),
        TaskSpec("pick_clean_then_place_in_recep", "Cloth", "Cabinet"),
        906,
    ),
    (
        "valid_unseen",
        _scene("gen-kitchen-a3", _KITCHEN_A, _KITCHEN_A_OBJECTS),
        TaskSpec("pick_heat_then_place_in_recep", "Egg", "DiningTable"),
        907,
    ),
    (
        "valid_unseen",
        _scene("gen-kitchen-b1", _KITCHEN_B, _KITCHEN_B_OBJECTS),
        TaskSpec("pick_heat_then_place_in_recep", "Bread", "CounterTop"),
        908,
    ),
    (
        "valid_unseen",
        _scene("gen-kitchen-a4", _KITCHEN_A, _KITCHEN_A_OBJECTS),
        TaskSpec("pick_cool_then_place_in_recep", "Apple", "CounterTop"),
        909,
    ),
    (
        "valid_unseen",
        _scene("gen-kitchen-b2", _KITCHEN_B, _KITCHEN_B_OBJECTS),
        TaskSpec("pick_cool_then_place_in_recep", "Pan", "StoveBurner"),
        910,
    ),
    (
        "valid_unseen",
        _scene("gen-livingroom-a1", _LIVINGROOM_A, _LIVINGROOM_A_OBJECTS),
        TaskSpec("pick_two_obj_and_place", "RemoteControl", "ArmChair"),
        911,
    ),
    (
        "valid_unseen",
        _scene("gen-kitchen-b3", _KITCHEN_B, _KITCHEN_B_OBJECTS),
        TaskSpec("pick_two_obj_and_place", "Egg", "DiningTable"),
        912,
    ),
    (
        "train",
        _scene("gen-bedroom-c1", _BEDROOM_C, _BEDROOM_C_OBJECTS),
        TaskSpec("pick_and_place_simple", "CellPhone", "Bed"),
        801,
    ),
    (
        "train",
        _scene("gen-bedroom-c2", _BEDROOM_C, _BEDROOM_C_OBJECTS),
        TaskSpec("look_at_obj_in_light", "CD", toggle_target="DeskLamp"),
        802,
    ),
    (
        "train",
        _scene("gen-kitchen-c1", _KITCHEN_C, _KITCHEN_C_OBJECTS),
        TaskSpec("pick_clean_then_place_in_recep", "Plate", "Cabinet"),
        803,
    ),
    (
        "train",
        _scene("gen-kitchen-c2", _KITCHEN_C, _KITCHEN_C_OBJECTS),
        TaskSpec("pick_heat_then_place_in_recep", "Cup", "Cabinet"),
        804,
    ),
    (
        "train",
        _scene("gen-kitchen-c3", _KITCHEN_C, _KITCHEN_C_OBJECTS),
        TaskSpec("pick_cool_then_place_in_recep", "Lettuce", "CounterTop"),
        805,
    ),
    (
        "train",
        _scene("gen-livingroom-b1", _LIVINGROOM_B, _LIVINGROOM_B_OBJECTS),
        TaskSpec("pick_two_obj_and_place", "Book", "Sofa"),
        806,
    ),
)

#: tw-make settings of the plain TextWorld games: (seed, rooms, objects, quest length).
TEXTWORLD_GAMES = ((1, 2, 3, 2), (2, 2, 3, 3))


def folder_name(task: TaskSpec, number: int) -> str:
    """ALFWorld's task folder naming: ``<task_type>-<Obj>-<MRecep or None>-<Recep>-<floor plan>``."""
    recep = task.parent_target or task.toggle_target
    return f"{task.task_type}-{task.object_target}-None-{recep}-{number}"


def solve_and_check(game_file: Path, data_root: Path) -> list[str]:
    """The planner's plan for the game at ``game_file``, after checking that playing it in the real environment
    wins exactly at its last step. Raises ``RuntimeError`` otherwise."""
    from evaluators.agents.text_game import open_game

    spec = GameSpec(path=game_file, game_id=game_file.parent.name, kind="alfworld", split="")
    env = open_game(spec, walkthrough=True, data_dir=data_root)
    try:
        state = env.reset()
        plan = list(state["extra.walkthrough"] or [])
        if state["won"]:
            raise RuntimeError(f"{game_file}: already won before any action")
        if not plan:
            raise RuntimeError(f"{game_file}: the planner found no plan")
        for i, cmd in enumerate(plan):
            if cmd not in state["admissible_commands"]:
                raise RuntimeError(f"{game_file}: plan step {i} {cmd!r} is not admissible")
            state, _, _ = env.step(cmd)
            if state["won"] != (i == len(plan) - 1):
                raise RuntimeError(f"{game_file}: won={state['won']} after plan step {i} of {len(plan)}")
        return plan
    finally:
        env.close()


def make_alfworld_games(out: Path) -> list[Path]:
    """Write every game of ``SCENES`` under ``out`` (the ALFWORLD_DATA-style root); returns the game files."""
    written = []
    for split, scene, task, number in SCENES:
        game, traj = build_game(scene, task)
        trial = out / "json_2.1.1" / split / folder_name(task, number) / f"trial_gen_{scene.scene_id}"
        trial.mkdir(parents=True, exist_ok=True)
        game_file = trial / "game.tw-pddl"
        game_file.write_text(json.dumps(game), encoding="utf-8")
        (trial / "traj_data.json").write_text(json.dumps(traj, indent=1) + "\n", encoding="utf-8")
        plan = solve_and_check(game_file, out)
        game.update(solvable=True, walkthrough=plan)
        game_file.write_text(json.dumps(game), encoding="utf-8")
        written.append(game_file)
        print(f"{split:12s} {traj['task_type']:32s} {len(plan):2d} steps  {traj['task_desc']}")
    return written


def make_textworld_games(out: Path) -> list[Path]:
    """``tw-make custom``-style games (TextWorld's generator) in ``out``; each checked to be won by its walkthrough."""
    import textworld
    from textworld.generator import compile_game, make_game

    from evaluators.agents.text_game import open_game

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for seed, rooms, objects, quest in TEXTWORLD_GAMES:
        opts = textworld.GameOptions()
        opts.seeds = seed
        opts.nb_rooms, opts.nb_objects, opts.quest_length = rooms, objects, quest
        opts.path = str(out / f"tw_seed{seed}.z8")
        opts.force_recompile = True
        path = Path(compile_game(make_game(opts), opts))
        path.with_suffix(".ni").unlink(missing_ok=True)  # Inform7 source: not needed to play
        env = open_game(
            GameSpec(path=path, game_id=path.stem, kind="textworld", split="test"), walkthrough=True
        )
        try:
            state = env.reset()
            for cmd in state["extra.walkthrough"]:
                state, _, _ = env.step(cmd)
            if not state["won"]:
                raise RuntimeError(f"{path}: its walkthrough does not win")
        finally:
            env.close()
        written.append(path)
        print(f"textworld    {path.name}: {len(state['extra.walkthrough'] or [])} walkthrough steps")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        default=str(project_data_dir() / "agents"),
        help="folder receiving alfworld/ and textworld/ (default: data/agents)",
    )
    parser.add_argument("--only", choices=("alfworld", "textworld"), default=None)
    args = parser.parse_args(argv)
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "alfworld"):
            os.environ.setdefault("ALFWORLD_DATA", tmp)  # importing alfworld would otherwise create ~/.cache
            staging = Path(tmp) / "alfworld"
            make_alfworld_games(staging)
            shutil.rmtree(out / "alfworld" / "json_2.1.1", ignore_errors=True)
            shutil.copytree(staging, out / "alfworld", dirs_exist_ok=True)
        if args.only in (None, "textworld"):
            staging = Path(tmp) / "textworld"
            make_textworld_games(staging)
            for old in (out / "textworld").glob("tw_seed*"):
                old.unlink()
            shutil.copytree(staging, out / "textworld", dirs_exist_ok=True)
    print(f"games written under {out}")


if __name__ == "__main__":
    main()
