"""make_envs: episode order (round-robin over task types, seeded), prefix stability, repeats, lazy loading."""

import pytest

from evaluators.agents.registry import DEFAULT_MAX_STEPS, make_envs, repeat_to
from evaluators.agents.tasks import TASK_TYPES
from resrl.paths import REPO_ROOT

ALFWORLD_DIR = str(REPO_ROOT / "data" / "agents" / "alfworld")


def _ids(envs):
    return [e.episode_id for e in envs]


def test_alfworld_episodes_cycle_through_task_types_and_are_prefix_stable():
    six = make_envs("alfworld", "valid_unseen", 6, ALFWORLD_DIR, 0, None)
    assert [e.task_type for e in six] == list(TASK_TYPES)
    assert all(e.max_steps == DEFAULT_MAX_STEPS["alfworld"] == 50 for e in six)
    assert all(e._env is None for e in six)  # nothing is loaded before reset()
    assert _ids(make_envs("alfworld", "valid_unseen", 3, ALFWORLD_DIR, 0, 50)) == _ids(six)[:3]
    everything = make_envs("alfworld", "unseen", None, ALFWORLD_DIR, 0, 50)
    assert len(everything) == 12 and _ids(everything)[:6] == _ids(six)
    assert len(set(_ids(everything))) == 12
    more = make_envs("alfworld", "valid_unseen", 14, ALFWORLD_DIR, 0, 7)
    assert _ids(more)[:12] == _ids(everything)
    assert _ids(more)[12:] == [i + "#1" for i in _ids(everything)[:2]]
    assert more[0].max_steps == 7
    assert _ids(six)[0].startswith("alfworld/valid_unseen/pick_and_place_simple-")


def test_seed_changes_the_order_within_task_types_only():
    orders = {tuple(_ids(make_envs("alfworld", "valid_unseen", None, ALFWORLD_DIR, s, 50))) for s in range(8)}
    assert len(orders) > 1  # 2^6 possible orders; 8 seeds giving one order would be a bug
    assert all(sorted(o) == sorted(next(iter(orders))) for o in orders)
    for o in orders:
        assert [i.split("/")[2].split("-")[0] for i in o[:6]] == list(TASK_TYPES)


def test_textworld_envs():
    envs = make_envs("textworld", None, 3, str(REPO_ROOT / "data" / "agents" / "textworld"), 0, None)
    assert len(envs) == 3 and envs[2].episode_id.endswith("#1") and envs[0].max_steps == 50


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown agent env 'sciworld'"):
        make_envs("sciworld", "test", 1, None, 0, 10)
    with pytest.raises(ValueError, match="max_steps must be >= 1"):
        make_envs("alfworld", "test", 1, ALFWORLD_DIR, 0, 0)


def test_helpers():
    assert repeat_to(["a", "b"], 5) == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2)]
    assert repeat_to(["a", "b"], None) == [("a", 0), ("b", 0)]
    assert repeat_to([], 3) == []
