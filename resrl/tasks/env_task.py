"""Multi-turn tasks: problems are episodes of a chat environment, the reward is each episode's
``score()["reward"]``.

``EnvTask`` is a ``Task`` whose problem ``i`` of a split is episode ``i`` of that split. The environments
come from a factory named in the config by an import path string (``"evaluators.agents.registry:make_envs"``),
imported on first use only, so importing ``resrl`` never imports an environment package. The factory is
called as::

    factory(**factory_args, <seed_arg>=seed, **split_args[split], <episodes_arg>=k) -> list[ChatEnv]

(a split may override the seed, e.g. to draw its episodes in another order)
and must return ``k`` fresh environments, episodes ``0 .. k-1`` of the split, the same episodes for the same
arguments. To get ``n`` independent copies of episode ``i`` (a GRPO group), ``make_envs`` calls the factory
``n`` times with ``k = max index + 1`` and closes the environments it does not use: cheap when the factory
only records what to load and opens games in ``reset`` (the factories here do).

The trainer (``resrl.trainer.loop``) recognises a multi-turn task by ``multi_turn = True`` and plays its
episodes with ``resrl.rollout.multi_turn.run_episodes`` (``max_turns``, ``max_total_tokens``,
``enable_thinking`` from this config).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from resrl.config_types import check_field_types
from resrl.tasks.base import Problem, Task


def _default_split_args() -> dict[str, dict[str, Any]]:
    return {"train": {"split": "train"}, "test": {"split": "test"}}


@dataclass
class EnvTaskConfig:
    """``experiments/task/<name>.yaml`` with ``kind: env``.

    ``name``: the task's label (run names, problem ids); ``factory``: ``"module:function"``;
    ``factory_args``: keyword arguments for every call; ``split_args``: per split (``train``, ``test``) extra
    keyword arguments, e.g. ``{split: valid_unseen}``; ``train_size``/``test_size``: episodes per split (at
    most what the factory can build); ``seed``: passed as ``seed_arg`` (None: not passed; ``split_args`` may
    override it);
    ``episodes_arg``: the factory's keyword for the number of episodes; ``max_turns``: assistant replies per
    episode; ``max_total_tokens``: prompt + response token budget of an episode (None: no budget);
    ``enable_thinking``: the chat-template thinking switch (None: template default).
    """

    name: str
    factory: str
    kind: str = "env"
    factory_args: dict[str, Any] = field(default_factory=dict)
    split_args: dict[str, dict[str, Any]] = field(default_factory=_default_split_args)
    train_size: int = 100
    test_size: int = 20
    seed: int = 0
    episodes_arg: str = "episodes"
    seed_arg: str | None = "seed"
    max_turns: int = 10
    max_total_tokens: int | None = None
    enable_thinking: bool | None = False

    def __post_init__(self) -> None:
        check_field_types(self, "task.")
        if self.kind != "env":
            raise ValueError(f"task.kind must be 'env' for an EnvTaskConfig, got {self.kind!r}")
        module, _, attr = self.factory.partition(":")
        if not module or not attr:
            raise ValueError(f"task.factory must be 'package.module:function', got {self.factory!r}")
        for split in ("train", "test"):
            if not isinstance(self.split_args.get(split, {}), dict):
                raise ValueError(f"task.split_args.{split} must be a mapping, got {self.split_args[split]!r}")
        unknown = sorted(set(self.split_args) - {"train", "test"})
        if unknown:
            raise ValueError(f"task.split_args has unknown split(s) {unknown}; valid: train, test")
        for name in ("train_size", "test_size", "max_turns"):
            if getattr(self, name) < 1:
                raise ValueError(f"task.{name} must be >= 1, got {getattr(self, name)}")
        if self.max_total_tokens is not None and self.max_total_tokens < 1:
            raise ValueError(f"task.max_total_tokens must be >= 1 or null, got {self.max_total_tokens}")


def load_factory(path: str, field: str = "factory") -> Callable[..., Any]:
    """The callable named by ``"package.module:function"`` (imported now); errors name ``task.<field>``."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ImportError(f"task.{field}={path!r}: cannot import {module_name!r} ({err})") from err
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"task.{field}={path!r}: module {module_name!r} has no function {attr!r}")
    return fn


class EnvTask(Task):
    """Episodes of a chat environment as problems (see the module docstring).

    ``factory`` overrides ``config.factory`` with a callable (tests).
    """

    splits = ("train", "test")
    multi_turn = True

    def __init__(self, config: EnvTaskConfig, factory: Callable[..., list[Any]] | None = None) -> None:
        self.config = config
        self.name = config.name
        self.enable_thinking = config.enable_thinking
        self.max_turns = config.max_turns
        self.max_total_tokens = config.max_total_tokens
        self._factory = factory

    @property
    def factory(self) -> Callable[..., list[Any]]:
        if self._factory is None:
            self._factory = load_factory(self.config.factory)
        return self._factory

    def check_data(self) -> None:
        """Build one training episode (factories only record what to load): a missing data folder fails here,
        naming it, before any training."""
        for env in self._build("train", 1):
            close = getattr(env, "close", None)
            if close is not None:
                close()

    def size(self, split: str) -> int:
        self.check_split(split)
        return self.config.train_size if split == "train" else self.config.test_size

    def get(self, split: str, index: int) -> Problem:
        """Episode ``index`` of ``split``: no prompt of its own (the environment's ``reset`` gives it)."""
        if not 0 <= index < self.size(split):
            raise IndexError(f"{self.name} {split} index {index} out of range [0, {self.size(split)})")
        return Problem(
            id=f"{self.name}-{split}-{index}",
            prompt_messages=[],
            answer="",
            meta={"split": split, "index": index},
        )

    def reward(self, response: str, answer: str) -> float:
        raise TypeError(
            f"task {self.name!r} is multi-turn: its reward is each episode's score()['reward'], "
            "not a function of one response"
        )

    def _build(self, split: str, k: int) -> list[Any]:
        c = self.config
        kwargs = {
            **c.factory_args,
            **({c.seed_arg: c.seed} if c.seed_arg is not None else {}),
            **c.split_args.get(split, {}),
            c.episodes_arg: k,
        }
        envs = list(self.factory(**kwargs))
        if len(envs) < k:
            for env in envs:
                env.close()
            raise ValueError(
                f"task {self.name!r}: {c.factory} built {len(envs)} {split} episodes, {k} needed; "
                f"lower task.{split}_size to at most {len(envs)}"
            )
        return envs

    def make_envs(self, split: str, problems: list[Problem], n: int) -> list[Any]:
        """``n`` fresh environments per problem, problem-major (all copies of ``problems[0]`` first)."""
        from resrl.rollout.multi_turn import ChatEnv

        self.check_split(split)
        if n < 1:
            raise ValueError(f"make_envs needs n >= 1, got {n}")
        if not problems:
            return []
        indices = [int(p.meta["index"]) for p in problems]
        need = max(indices) + 1
        pools: list[list[Any]] = []
        taken: list[set[int]] = []
        out = []
        for i in indices:
            for _ in range(n):
                slot = next((j for j, used in enumerate(taken) if i not in used), None)
                if slot is None:
                    pools.append(self._build(split, need))
                    taken.append(set())
                    slot = len(pools) - 1
                taken[slot].add(i)
                env = pools[slot][i]
                if not isinstance(env, ChatEnv):
                    raise TypeError(
                        f"task {self.name!r}: {self.config.factory} returned a {type(env).__name__}, "
                        "not a ChatEnv (reset/step/score/close, tools, episode_id)"
                    )
                out.append(env)
        for pool, used in zip(pools, taken, strict=True):
            for j, env in enumerate(pool):
                if j not in used:
                    env.close()
        return out
