"""Build an ALFWorld game (``.tw-pddl``) from a small hand-written scene.

A ``.tw-pddl`` file is JSON with ALFWorld's PDDL domain (``alfworld/data/alfred.pddl``), its text grammar
(``alfred.twl2``, with ``UNKNOWN GOAL`` replaced by the task description), a PDDL problem, and the fields
``solvable`` and ``walkthrough`` that ``alfworld-generate`` fills after solving the game. The problem follows the
shape ALFWorld's generator writes (``alfworld/gen/game_states/planned_game_state.py``): ALFRED object ids
mangled into PDDL names (``Apple|-01.00|+00.90|+00.50`` -> ``Apple_bar__minus_01_dot_00_bar_...``; the
``AlfredDemangler`` wrapper turns them back into ``apple 1``), ``loc|x|z|rot|horizon`` locations, type facts,
object properties (cleanable, heatable, coolable, sliceable, toggleable) and ``canContain`` from ALFRED's tables
(``alfworld.gen.constants``), and the goal formula of the task type from ``alfworld.gen.goal_library``.

Only the scene (which receptacles, which objects where, which task) is written by hand; every PDDL fact and the
goal come from ALFWorld's own tables, so the game plays exactly as a downloaded one (same domain, grammar,
planner, wrappers).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from evaluators.agents.tasks import TASK_TYPES

#: Receptacles whose ALFRED id carries a second class (``Sink|x|y|z|SinkBasin``): the demangler names them
#: ``sinkbasin 1`` / ``bathtubbasin 1``.
_BASIN_PARENT = {"SinkBasin": "Sink", "BathtubBasin": "Bathtub"}


@dataclass(frozen=True)
class Scene:
    """A room: ``receptacles`` as ``(class, count)``; ``objects`` as ``(object class, receptacle class,
    receptacle instance)`` (instance 0-based among that class's receptacles)."""

    scene_id: str
    receptacles: tuple[tuple[str, int], ...]
    objects: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class TaskSpec:
    """What to achieve: an ALFWorld task type and its targets (ALFRED class names, e.g. ``Apple``)."""

    task_type: str
    object_target: str
    parent_target: str = ""  # the receptacle class to put the object in (all types but look_at_obj_in_light)
    toggle_target: str = ""  # the lamp class (look_at_obj_in_light)

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"TaskSpec.task_type={self.task_type!r}; known: {list(TASK_TYPES)}")
        if self.task_type == "look_at_obj_in_light" and not self.toggle_target:
            raise ValueError("look_at_obj_in_light needs toggle_target (e.g. DeskLamp)")
        if self.task_type != "look_at_obj_in_light" and not self.parent_target:
            raise ValueError(f"{self.task_type} needs parent_target (the receptacle class)")


def mangle(alfred_id: str) -> str:
    """ALFRED id -> PDDL name, as ALFWorld's generator does (``fix_pddl_str_chars``)."""
    for a, b in (("-", "_minus_"), ("|", "_bar_"), ("+", "_plus_"), (".", "_dot_"), (",", "_comma_")):
        alfred_id = alfred_id.replace(a, b)
    return alfred_id


def _seeded(scene_id: str) -> random.Random:
    return random.Random(int(hashlib.sha256(scene_id.encode()).hexdigest()[:16], 16))


def _coord(rng: random.Random, used: set[str]) -> str:
    while True:
        c = "|".join(f"{rng.uniform(-3.0, 3.0):+06.2f}" for _ in range(3))
        if c not in used:
            used.add(c)
            return c


def _loc(rng: random.Random, used: set[str]) -> str:
    while True:
        x, z = rng.randint(-12, 12), rng.randint(-12, 12)
        loc = f"loc|{x}|{z}|{rng.randint(0, 3)}|{rng.choice([0, 15, 30, 45, 60])}"
        if loc not in used:
            used.add(loc)
            return loc


def task_description(task: TaskSpec, rng: random.Random) -> str:
    """One of ALFWorld's templated goal texts for the task (``goal_library.gdict[type]['templates']``), filled
    in with lower-cased class names, as ``alfworld.agents.utils.misc.get_templated_task_desc`` does."""
    import alfworld.gen.goal_library as glib

    template = rng.choice(glib.gdict[task.task_type]["templates"])
    return template.format(
        obj=task.object_target.lower(),
        recep=task.parent_target.lower(),
        toggle=task.toggle_target.lower(),
        mrecep="",
    )


def build_problem(scene: Scene, task: TaskSpec) -> str:
    """The PDDL problem text of ``task`` in ``scene``."""
    import alfworld.gen.constants as C
    import alfworld.gen.goal_library as glib

    rng = _seeded(scene.scene_id)
    coords: set[str] = set()
    locs: set[str] = set()
    agent_loc = _loc(rng, locs)

    recep_ids: dict[tuple[str, int], str] = {}
    recep_loc: dict[str, str] = {}
    for cls, count in scene.receptacles:
        for i in range(count):
            parent = _BASIN_PARENT.get(cls)
            rid = f"{parent}|{_coord(rng, coords)}|{cls}" if parent else f"{cls}|{_coord(rng, coords)}"
            recep_ids[(cls, i)] = rid
            recep_loc[rid] = _loc(rng, locs)

    obj_ids: list[tuple[str, str, str]] = []  # (object id, class, receptacle id)
    for cls, rcls, i in scene.objects:
        if (rcls, i) not in recep_ids:
            raise ValueError(f"scene {scene.scene_id}: object {cls} placed in missing receptacle {rcls} #{i}")
        obj_ids.append((f"{cls}|{_coord(rng, coords)}", cls, recep_ids[(rcls, i)]))

    recep_classes = sorted({cls for cls, _ in scene.receptacles})
    obj_classes = sorted({cls for _, cls, _ in obj_ids})
    for needed in (task.object_target, task.toggle_target):
        if needed and needed not in obj_classes:
            raise ValueError(f"scene {scene.scene_id}: task needs a {needed}, the scene has {obj_classes}")
    if task.parent_target and task.parent_target not in recep_classes:
        raise ValueError(
            f"scene {scene.scene_id}: task needs a {task.parent_target}, the scene has {recep_classes}"
        )

    props = {
        "cleanable": "Cleanable",
        "heatable": "Heatable",
        "coolable": "Coolable",
        "sliceable": "Sliceable",
        "toggleable": "Toggleable",
    }
    toggleable = C.VAL_ACTION_OBJECTS["Toggleable"]
    objects = ["agent1 - agent"]
    objects += [f"{c}Type - otype" for c in obj_classes] + [f"{c}Type - rtype" for c in recep_classes]
    objects += [f"{mangle(oid)} - object" for oid, _, _ in obj_ids]
    objects += [f"{mangle(rid)} - receptacle" for rid in recep_ids.values()]
    objects += [f"{mangle(loc)} - location" for loc in sorted(locs)]

    init = [f"(atLocation agent1 {mangle(agent_loc)})"]
    for (cls, _), rid in recep_ids.items():
        init.append(f"(receptacleType {mangle(rid)} {cls}Type)")
        init.append(f"(receptacleAtLocation {mangle(rid)} {mangle(recep_loc[rid])})")
        if cls in C.OPENABLE_CLASS_SET:
            init.append(f"(openable {mangle(rid)})")
    for oid, cls, rid in obj_ids:
        o = mangle(oid)
        init.append(f"(objectType {o} {cls}Type)")
        init.append(f"(inReceptacle {o} {mangle(rid)})")
        init.append(f"(objectAtLocation {o} {mangle(recep_loc[rid])})")
        if cls not in toggleable:
            init.append(f"(pickupable {o})")
        if cls in C.MOVABLE_RECEPTACLES_SET:
            init.append(f"(isReceptacleObject {o})")
        init += [f"({p} {o})" for p, key in props.items() if cls in C.VAL_ACTION_OBJECTS[key]]
    for r in recep_classes:
        init += [
            f"(canContain {r}Type {o}Type)" for o in obj_classes if o in C.VAL_RECEPTACLE_OBJECTS.get(r, ())
        ]

    goal = (
        glib.gdict[task.task_type]["pddl"]
        .format(obj=task.object_target, recep=task.parent_target, toggle=task.toggle_target, mrecep="")
        .replace("#", "-")
    )
    nl = "\n        "
    return (
        f"\n(define (problem plan_{scene.scene_id})\n    (:domain alfred)\n    (:objects{nl}"
        + nl.join(objects)
        + f"\n    )\n    (:init{nl}"
        + nl.join(init)
        + "\n    )\n"
        + goal
    )


def build_game(scene: Scene, task: TaskSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(game, traj_data)``: the ``.tw-pddl`` content (``solvable``/``walkthrough`` still None) and a minimal
    ``traj_data.json`` (task type and targets, as ALFWorld's loader reads them)."""
    from alfworld.info import ALFRED_PDDL_PATH, ALFRED_TWL2_PATH

    with open(ALFRED_PDDL_PATH, encoding="utf-8") as f:
        domain = f.read()
    with open(ALFRED_TWL2_PATH, encoding="utf-8") as f:
        grammar = f.read()
    desc = task_description(task, _seeded(scene.scene_id + "/task"))
    game = {
        "pddl_domain": domain,
        "grammar": grammar.replace("UNKNOWN GOAL", desc),
        "pddl_problem": build_problem(scene, task),
        "solvable": None,
        "walkthrough": None,
    }
    traj = {
        "task_type": task.task_type,
        "pddl_params": {
            "object_target": task.object_target,
            "parent_target": task.parent_target,
            "toggle_target": task.toggle_target,
            "mrecep_target": "",
            "object_sliced": False,
        },
        "scene": {"floor_plan": scene.scene_id},
        "task_desc": desc,
        "generated_by": "python -m evaluators.agents.make_games (hand-written scene, not from ALFRED)",
    }
    return game, traj
