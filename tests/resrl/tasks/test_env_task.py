"""EnvTask: config checks, lazy factory import, episode copies for groups; the guess environment; the
environment task configs in experiments/task/."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import yaml

from resrl.paths import REPO_ROOT
from resrl.tasks import EnvTask, EnvTaskConfig, make_task
from resrl.tasks.guess_env import GuessEnv, make_envs, target_for

TASK_DIR = REPO_ROOT / "experiments" / "task"


class Recorder:
    """A factory that records its calls and the environments it built."""

    def __init__(self, limit: int | None = None) -> None:
        self.calls, self.built, self.limit = [], [], limit

    def __call__(self, **kw):
        self.calls.append(kw)
        k = kw["episodes"] if self.limit is None else min(kw["episodes"], self.limit)
        envs = make_envs(kw["split"], k, seed=kw["seed"])
        self.built.extend(envs)
        return envs


def _task(**kw):
    base = dict(name="toy", factory="resrl.tasks.guess_env:make_envs", train_size=10, test_size=3)
    return EnvTaskConfig(**{**base, **kw})


def test_problems_are_episode_indices():
    task = EnvTask(_task())
    assert task.multi_turn and task.size("train") == 10 and task.size("test") == 3
    p = task.get("train", 4)
    assert (p.id, p.prompt_messages, p.meta) == ("toy-train-4", [], {"split": "train", "index": 4})
    with pytest.raises(IndexError, match=r"toy test index 3 out of range \[0, 3\)"):
        task.get("test", 3)
    with pytest.raises(ValueError, match="no split 'valid'"):
        task.size("valid")
    with pytest.raises(TypeError, match="multi-turn"):
        task.reward("x", "")


def test_make_envs_gives_fresh_copies_problem_major_and_closes_the_rest():
    rec = Recorder()
    task = EnvTask(_task(factory_args={"ignored_by": "Recorder"}), factory=rec)
    problems = [
        task.get("train", 3),
        task.get("train", 1),
        task.get("train", 3),
    ]  # index 3 twice (a wrap-around)
    envs = task.make_envs("train", problems, 2)
    assert [e.episode_id for e in envs] == ["guess-train-3"] * 2 + ["guess-train-1"] * 2 + [
        "guess-train-3"
    ] * 2
    assert len({id(e) for e in envs}) == 6  # every slot its own instance
    assert [e.target for e in envs] == [target_for(0, "train", i, 1, 10) for i in (3, 3, 1, 1, 3, 3)]
    # four copies of episode 3 are needed -> four factory calls, each for episodes 0..3
    assert len(rec.calls) == 4 and all(c["episodes"] == 4 and c["split"] == "train" for c in rec.calls)
    unused = [e for e in rec.built if all(e is not u for u in envs)]
    assert len(unused) == 4 * 4 - 6 and all(e.closed for e in unused) and not any(e.closed for e in envs)


def test_factory_arguments_per_split():
    rec = Recorder()
    task = EnvTask(
        _task(seed=5, split_args={"train": {"split": "train"}, "test": {"split": "dev", "seed": 9}}),
        factory=rec,
    )
    task.make_envs("train", [task.get("train", 0)], 1)
    task.make_envs("test", [task.get("test", 2)], 1)
    assert rec.calls == [
        {"split": "train", "seed": 5, "episodes": 1},
        {"split": "dev", "seed": 9, "episodes": 3},
    ]


def test_too_few_episodes_names_the_size_field():
    task = EnvTask(_task(), factory=Recorder(limit=2))
    with pytest.raises(
        ValueError, match=r"built 2 train episodes, 6 needed; lower task.train_size to at most 2"
    ):
        task.make_envs("train", [task.get("train", 5)], 1)


def test_non_env_objects_are_rejected():
    task = EnvTask(_task(), factory=lambda **kw: [object()] * kw["episodes"])
    with pytest.raises(TypeError, match="returned a object, not a ChatEnv"):
        task.make_envs("train", [task.get("train", 0)], 1)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="task.factory must be 'package.module:function'"):
        _task(factory="resrl.tasks.guess_env")
    with pytest.raises(ValueError, match="task.max_turns must be >= 1"):
        _task(max_turns=0)
    with pytest.raises(ValueError, match="task.train_size must be an integer"):
        _task(train_size="many")
    with pytest.raises(ValueError, match=r"task.split_args has unknown split\(s\) \['dev'\]"):
        _task(split_args={"dev": {}})
    with pytest.raises(ValueError, match="unknown task kind 'gym'"):
        make_task({"name": "x", "kind": "gym"})
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['level'\] for task 'guess'"):
        make_task("guess", level=2)
    with pytest.raises(
        ImportError, match=r"task.factory='no_such_pkg.envs:make': cannot import 'no_such_pkg.envs'"
    ):
        EnvTask(_task(factory="no_such_pkg.envs:make")).make_envs(
            "train", [EnvTask(_task()).get("train", 0)], 1
        )
    with pytest.raises(ValueError, match="module 'resrl.tasks.guess_env' has no function 'nope'"):
        _ = EnvTask(_task(factory="resrl.tasks.guess_env:nope")).factory
    with pytest.raises(ValueError, match=r"valid tasks: arith, dapo_math; other task configs .*guess"):
        make_task("gsm9k")


def test_factories_are_imported_lazily():
    """Building (and importing) tasks does not import an environment package; only make_envs does."""
    code = (
        "import sys; from resrl.tasks import make_task; t = make_task('guess'); "
        "a = 'resrl.tasks.guess_env' in sys.modules; t.make_envs('train', [t.get('train', 0)], 1); "
        "print(a, 'resrl.tasks.guess_env' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:2] == ["False", "True"]


# --------------------------------------------------------------------------------------------- guess env
def test_guess_env_hand_played():
    env = GuessEnv(target=6, low=1, high=10, reward="closeness")
    assert "between 1 and 10" in env.reset()[0]["content"]
    s = env.step("I think 3")
    assert (s.messages[0]["content"], s.done, s.invalid) == ("Higher.", False, False)
    s = env.step("no idea")
    assert (s.messages[0]["content"], s.done, s.invalid) == (
        "Reply with one integer between 1 and 10.",
        False,
        True,
    )
    assert env.score() == {
        "reward": pytest.approx(1 - 3 / 9),
        "success": 0.0,
        "closeness": pytest.approx(1 - 3 / 9),
        "guesses": 1.0,
    }
    s = env.step("9")
    assert s.messages[0]["content"] == "Lower."
    s = env.step("maybe 5 or 6")  # the last integer counts
    assert (s.messages[0]["content"], s.done, s.reward) == ("Correct!", True, 1.0)
    assert env.score() == {"reward": 1.0, "success": 1.0, "closeness": 1.0, "guesses": 3.0}
    assert GuessEnv(6, reward="success").score()["reward"] == 0.0
    with pytest.raises(ValueError, match="reward must be one of"):
        GuessEnv(6, reward="dense")
    with pytest.raises(ValueError, match="low <= target <= high"):
        GuessEnv(11)


def test_guess_targets_are_fixed_per_seed_split_index():
    a, b = make_envs("train", 20, seed=0), make_envs("train", 20, seed=0)
    assert [e.target for e in a] == [e.target for e in b]
    assert [e.target for e in a] != [e.target for e in make_envs("train", 20, seed=1)]
    assert [e.target for e in a] != [e.target for e in make_envs("test", 20, seed=0)]
    assert [e.target for e in make_envs("train", 3)] == [e.target for e in a[:3]]  # prefix-stable
    assert {e.target for e in a} <= set(range(1, 11)) and len({e.target for e in a}) > 3


# ------------------------------------------------------------------------------------ shipped configs
@pytest.mark.parametrize("name", ["guess", "alfworld", "bfcl"])
def test_environment_task_configs_parse(name):
    data = yaml.safe_load((TASK_DIR / f"{name}.yaml").read_text())
    assert data["kind"] == "env" and data["name"] == name
    task = make_task(name)
    assert isinstance(task, EnvTask) and task.max_turns >= 1


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(not _importable("bfcl_eval"), reason="bfcl_eval is not installed (pip install bfcl-eval)")
def test_bfcl_config_builds_real_environments():
    task = make_task("bfcl")
    envs = task.make_envs("train", [task.get("train", 1), task.get("train", 0)], 2)
    ids = [e.episode_id for e in envs]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    opening = envs[0].reset()
    assert opening and opening[-1]["role"] == "user"
    for e in envs:
        e.close()


@pytest.mark.skipif(
    not (_importable("textworld") and _importable("alfworld")),
    reason="textworld/alfworld are not installed (pip install textworld==1.7.0 alfworld==0.4.2)",
)
def test_alfworld_config_builds_real_environments(monkeypatch):
    """The shipped generated ALFWorld games (data/agents/alfworld) through the stand-in config's factory; the
    benchmark config refuses them (no silent stand-in for ALFWorld's games)."""
    monkeypatch.delenv("ALFWORLD_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="alfworld-download"):
        make_task("alfworld").check_data()
    task = make_task("alfworld_tiny")
    envs = task.make_envs("train", [task.get("train", 1), task.get("train", 0)], 2)
    ids = [e.episode_id for e in envs]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2] and ids[0].startswith("alfworld/train/")
    assert envs[0] is not envs[1]
    opening = envs[0].reset()
    assert opening and opening[-1]["role"] == "user" and "Your task is to" in opening[-1]["content"]
    for e in envs:
        e.close()
