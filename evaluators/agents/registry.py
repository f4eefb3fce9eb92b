"""``make_envs``: agent environments by name, for the evaluation runner and for training (``resrl.tasks.env_task``).

``make_envs(env, split, episodes, data_dir, seed, max_steps)`` returns ``episodes`` fresh ``ChatEnv``\\ s. Episode
``i`` is the same for the same arguments whatever ``episodes`` is (the list for ``k`` episodes is a prefix of the
list for ``k + 1``), and nothing is loaded until an environment's ``reset``. Order:

- ALFWorld: the split's games grouped by task type (Table 3's order), shuffled within each type by ``seed``, then
  taken round-robin across types (so 6 episodes cover the six types); past the last game the order repeats, with
  ``#<repeat>`` appended to the episode id;
- TextWorld: the folder's games shuffled by ``seed``, repeating likewise;
- WebShop: the split's goal indices (test 0-499, eval 500-1499, train 1500+) shuffled by ``seed``.

``score()["reward"]`` is ``success`` (1.0 for a won game) for ALFWorld/TextWorld and WebShop's final reward in
[0, 1] for WebShop.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from evaluators.agents.data import (
    GameSpec,
    canonical_split,
    find_alfworld_games,
    find_textworld_games,
    resolve_alfworld_dir,
)
from evaluators.agents.prompting import make_prompt
from evaluators.agents.tasks import TASK_TYPES

ENVS = ("alfworld", "textworld", "webshop")
#: Steps per episode (paper, Sec. 4: 50 for ALFWorld, 15 for WebShop).
DEFAULT_MAX_STEPS = {"alfworld": 50, "textworld": 50, "webshop": 15}
#: Split evaluated by default (paper: ALFWorld's unseen split; WebShop's test goals).
DEFAULT_SPLIT = {"alfworld": "valid_unseen", "textworld": "test", "webshop": "test"}


def _check_env(env: str) -> None:
    if env not in ENVS:
        raise ValueError(f"unknown agent env {env!r}; known: {list(ENVS)}")


def ordered_games(games: list[GameSpec], seed: int | None) -> list[GameSpec]:
    """Games grouped by task type (TASK_TYPES order, then None), each group shuffled by ``seed`` (``None``: kept
    sorted), interleaved round-robin."""
    groups: dict[str | None, list[GameSpec]] = defaultdict(list)
    for g in sorted(games, key=lambda g: g.game_id):
        groups[g.task_type].append(g)
    keys = [t for t in TASK_TYPES if t in groups] + [t for t in groups if t not in TASK_TYPES]
    if seed is not None:
        for k in keys:
            random.Random(f"{seed}/{k}").shuffle(groups[k])
    out: list[GameSpec] = []
    for i in range(max(len(v) for v in groups.values())):
        out += [groups[k][i] for k in keys if i < len(groups[k])]
    return out


def repeat_to(items: list[Any], episodes: int | None) -> list[tuple[Any, int]]:
    """``(item, repeat)`` for ``episodes`` episodes cycling through ``items`` (``None`` or <= 0: each item once)."""
    if not items:
        return []
    n = len(items) if episodes is None or episodes <= 0 else episodes
    return [(items[i % len(items)], i // len(items)) for i in range(n)]


def _episode_id(prefix: str, repeat: int) -> str:
    return prefix if repeat == 0 else f"{prefix}#{repeat}"


def make_envs(
    env: str,
    split: str | None = None,
    episodes: int | None = None,
    data_dir: str | None = None,
    seed: int | None = 0,
    max_steps: int | None = None,
    *,
    think: bool = True,
    task_types: list[str] | None = None,
    expert: bool = False,
    webshop_num_products: int | None = None,
    benchmark_data: bool = False,
) -> list[Any]:
    """``episodes`` ChatEnvs of ``env`` (``alfworld``, ``textworld``, ``webshop``) on ``split`` (None: the paper's
    evaluation split), ``max_steps`` steps each (None: 50 ALFWorld/TextWorld, 15 WebShop).

    ``data_dir``: ALFWorld data (None: ``$ALFWORLD_DATA``, else the shipped generated set), a folder of TextWorld
    games, or the WebShop checkout. ``think``: ask for ``<think>`` reasoning; ``task_types``: ALFWorld types to keep;
    ``expert``: load walkthroughs (scripted policies in tests); ``webshop_num_products``: WebShop's product subset.
    ``benchmark_data``: refuse the shipped generated ALFWorld games (a training task on the real games must not
    fall back to the stand-in; FileNotFoundError naming the download command).
    """
    _check_env(env)
    split = split or DEFAULT_SPLIT[env]
    max_steps = DEFAULT_MAX_STEPS[env] if max_steps is None else int(max_steps)
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    prompt = make_prompt(env, think)
    if env in ("alfworld", "textworld"):
        from evaluators.agents.text_game import TextGameEnv

        if env == "alfworld":
            split = canonical_split(split)
            root, origin = resolve_alfworld_dir(data_dir)
            if benchmark_data and origin == "shipped":
                raise FileNotFoundError(
                    "ALFWorld's game files are needed (alfworld 0.4.2: `pip install alfworld && alfworld-download`, "
                    "into $ALFWORLD_DATA or ~/.cache/alfworld); set data_dir or $ALFWORLD_DATA. The project's "
                    "generated games are the alfworld_tiny stand-in, not the benchmark"
                )
            games = ordered_games(find_alfworld_games(root, split, task_types), seed)
        else:
            root = data_dir
            games = ordered_games(find_textworld_games(data_dir, split), seed)
        return [
            TextGameEnv(
                g,
                prompt=prompt,
                max_steps=max_steps,
                data_dir=root if env == "alfworld" else None,
                episode_id=_episode_id(f"{env}/{split}/{g.game_id}", rep),
                expert=expert,
            )
            for g, rep in repeat_to(games, episodes)
        ]

    from evaluators.agents.webshop import WebShopEnv, WebShopServer, webshop_split_sessions

    server = WebShopServer(
        data_dir, num_products=webshop_num_products
    )  # checks the folder; loads nothing yet
    split = {"valid": "eval", "valid_unseen": "test"}.get(split, split)
    num_goals = server.num_goals if split == "train" else None
    sessions = list(webshop_split_sessions(split, num_goals))
    if seed is not None:
        random.Random(f"{seed}/webshop/{split}").shuffle(sessions)
    envs = []
    for session, rep in repeat_to(sessions, episodes):
        eid = _episode_id(f"webshop/{split}/{session}", rep)
        envs.append(
            WebShopEnv(
                session,
                make_env=lambda p=f"{eid}-": server.new_env(session_prefix=p),
                prompt=prompt,
                max_steps=max_steps,
                episode_id=eid,
            )
        )
    return envs
