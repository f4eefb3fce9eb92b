"""ALFWorld's six task types, their short names in the metrics table, and the episode-id convention.

The long names are ALFWorld's (``traj_data.json`` field ``task_type`` and the prefix of every game folder,
e.g. ``pick_cool_then_place_in_recep-Apple-None-Cabinet-3``). The short names are the columns of the paper's
Table 3 (``paper_figures/table3.py``): metrics rows are named ``alfworld_<short>`` per type and ``alfworld``
overall.
"""

from __future__ import annotations

#: ALFWorld task type -> short name used in benchmark names (``alfworld_pick``, ...), in Table 3's order.
TASK_TYPES: dict[str, str] = {
    "pick_and_place_simple": "pick",
    "look_at_obj_in_light": "look",
    "pick_clean_then_place_in_recep": "clean",
    "pick_heat_then_place_in_recep": "heat",
    "pick_cool_then_place_in_recep": "cool",
    "pick_two_obj_and_place": "pick2",
}


def short_task_type(task_type: str) -> str:
    """``pick_two_obj_and_place`` -> ``pick2``; raises naming the known types for anything else."""
    try:
        return TASK_TYPES[task_type]
    except KeyError:
        raise ValueError(f"unknown ALFWorld task type {task_type!r}; known: {list(TASK_TYPES)}") from None


def task_type_from_folder(name: str) -> str | None:
    """The task type a game folder name starts with (``pick_heat_then_place_in_recep-Egg-None-...``), or None."""
    prefix = name.split("-", 1)[0]
    return prefix if prefix in TASK_TYPES else None
