"""``WebShopEnv``: one WebShop episode (a goal, i.e. a session index) as a ``ChatEnv``.

It drives WebShop's own text environment, ``web_agent_site.envs.WebAgentTextEnv`` (gym id
``WebAgentTextEnv-v0``, ``observation_mode="text"``), from a checkout of github.com/princeton-nlp/WebShop given as
``data_dir`` (imported lazily; see ``data.check_webshop_dir`` for what the checkout must hold). The API used, read
from that code (commit 64fa2a5):

- ``reset(session=i)`` starts goal ``i`` and returns ``(observation, None)``; ``instruction_text`` holds the goal;
- ``get_available_actions()`` -> ``{"has_search_bar": bool, "clickables": [lower-cased button/link/option
  texts]}``;
- ``step(action)`` with ``search[keywords]`` or ``click[value]`` -> ``(observation, reward, done, None)``; an action
  the page does not offer "performs nothing" (same page, reward 0); ``click[buy now]`` ends the episode with the
  purchase's reward in [0, 1].

Text observations join the page's visible strings with `` [SEP] ``, e.g. ``WebShop [SEP] Instruction: [SEP] i need
... [SEP] Search``. Episode rules (as verl-agent's WebShop environment): at most ``max_steps`` (15) replies; the
admissible actions shown are ``search[<your query>]`` when the page has a search bar and ``click[x]`` for every
clickable but ``search``; an unreadable reply is not sent (the step counts, flagged invalid); an action the page
does not offer is sent (WebShop ignores it) and flagged invalid. ``score()``: ``score`` = the final reward,
``success`` = 1.0 when it is 1.0, ``reward`` = the final reward.

WebShop's standard goal split (its ``baseline_models/env.py``): goals 0-499 test, 500-1499 eval, 1500+ train.
One simulated server (product data, search index, goals; slow to load) is shared by all episodes of a run; each
episode gets its own ``WebAgentTextEnv`` (browser state) on that server.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any

from evaluators.agents.actions import check_can_step, parse_action
from evaluators.agents.data import check_webshop_dir
from evaluators.agents.prompting import AgentPrompt
from resrl.rollout.multi_turn import EnvStep, Message

#: WebShop goal indices per split (baseline_models/env.py); ``None`` = up to the number of goals.
WEBSHOP_SPLITS: dict[str, tuple[int, int | None]] = {
    "test": (0, 500),
    "eval": (500, 1500),
    "train": (1500, None),
}
SEARCH_PLACEHOLDER = "search[<your query>]"
_ACTION = re.compile(r"^(search|click)\[(.*)\]$", re.IGNORECASE | re.DOTALL)


def admissible_actions(available: dict[str, Any]) -> list[str]:
    """verl-agent's rendering of ``get_available_actions()``: ``search[<your query>]`` first when there is a
    search bar, then ``click[x]`` for each clickable except ``search``."""
    actions = [SEARCH_PLACEHOLDER] if available.get("has_search_bar") else []
    return actions + [f"click[{c}]" for c in available.get("clickables", []) if c != "search"]


def check_action(action: str, available: dict[str, Any]) -> tuple[str, bool]:
    """``(action to send, valid)``: ``search[q]`` is valid with a search bar and a non-empty query other than the
    placeholder; ``click[x]`` when ``x`` (lower-cased, as WebShop compares) is a clickable other than ``search``.
    The name is lower-cased (``Click[Buy Now]`` -> ``click[Buy Now]``); WebShop lower-cases the argument itself."""
    m = _ACTION.match(action.strip())
    if m is None:
        return action, False
    name, arg = m.group(1).lower(), m.group(2).strip()
    action = f"{name}[{arg}]"
    if name == "search":
        return action, bool(available.get("has_search_bar")) and bool(arg) and arg != "<your query>"
    clickables = available.get("clickables", [])
    return action, arg.lower() in clickables and arg.lower() != "search"


def webshop_split_sessions(split: str, num_goals: int | None = None) -> range:
    """Goal indices of ``split`` (``test``, ``eval``, ``train``)."""
    if split not in WEBSHOP_SPLITS:
        raise ValueError(f"unknown WebShop split {split!r}; use one of {list(WEBSHOP_SPLITS)}")
    lo, hi = WEBSHOP_SPLITS[split]
    if hi is None:
        if num_goals is None:
            raise ValueError("WebShop's train split runs to the number of goals; pass num_goals")
        hi = num_goals
    return range(lo, hi)


class WebShopServer:
    """The shared WebShop simulator of a checkout (loaded on first use): ``new_env()`` gives a fresh
    ``WebAgentTextEnv`` on it. ``num_products``: WebShop's product subset (None: all; 1000 for the small data)."""

    def __init__(
        self, webshop_dir: str | os.PathLike, num_products: int | None = None, human_goals: bool = True
    ) -> None:
        self.root = check_webshop_dir(webshop_dir)
        self.num_products = num_products
        self.human_goals = human_goals
        self._server: Any = None

    def _import_envs(self) -> Any:
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        try:
            import gym
            import web_agent_site.envs  # noqa: F401  (registers WebAgentTextEnv-v0)
        except ImportError as err:
            raise ImportError(
                f"WebShop's code in {self.root} could not be imported ({err}); install its "
                f"requirements: pip install -r {self.root / 'requirements.txt'}"
            ) from None
        return gym

    def new_env(self, session_prefix: str | None = None) -> Any:
        """A fresh ``WebAgentTextEnv``; ``session_prefix`` keeps two episodes on the same goal from sharing the
        server's session state (WebShop keys sessions by ``prefix + str(goal index)``)."""
        gym = self._import_envs()
        kwargs: dict[str, Any] = {"observation_mode": "text", "session_prefix": session_prefix}
        if self._server is None:
            env = gym.make(
                "WebAgentTextEnv-v0", num_products=self.num_products, human_goals=self.human_goals, **kwargs
            )
            self._server = env.unwrapped.server
            return env.unwrapped
        return gym.make("WebAgentTextEnv-v0", server=self._server, **kwargs).unwrapped

    @property
    def num_goals(self) -> int:
        if self._server is None:
            self.new_env()
        return len(self._server.goals)


class WebShopEnv:
    """One WebShop episode on goal ``session`` (see the module docstring). ``make_env`` returns a
    ``WebAgentTextEnv`` (or anything with its API); it is called at ``reset``."""

    tools = None

    def __init__(
        self,
        session: int,
        *,
        make_env: Callable[[], Any],
        prompt: AgentPrompt,
        max_steps: int = 15,
        episode_id: str | None = None,
    ) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        self.session = int(session)
        self.make_env = make_env
        self.prompt = prompt
        self.max_steps = max_steps
        self.episode_id = episode_id or f"webshop/{self.session}"
        self.task_type = None
        self._env: Any = None
        self.instruction = ""
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.steps = 0
        self.invalid_actions = 0
        self.final_reward = 0.0
        self.done = False
        self.available: dict[str, Any] = {"has_search_bar": False, "clickables": []}

    def reset(self) -> list[Message]:
        self._reset_counters()
        if self._env is None:
            self._env = self.make_env()
        observation, _ = self._env.reset(session=self.session)
        self.instruction = str(getattr(self._env, "instruction_text", "") or "")
        self.available = self._env.get_available_actions()
        return self.prompt.opening(self.instruction, observation, admissible_actions(self.available))

    def step(self, action: str) -> EnvStep:
        check_can_step(self)
        self.steps += 1
        parsed = parse_action(action)
        if parsed.action is None:
            self.invalid_actions += 1
            self.done = self.steps >= self.max_steps
            msg = self.prompt.invalid(
                parsed.error or "unreadable reply",
                admissible_actions(self.available),
                self.steps,
                self.max_steps,
            )
            return EnvStep([msg], self.done, 0.0, invalid=True, info={"action": None, "error": parsed.error})
        command, valid = check_action(parsed.action, self.available)
        self.invalid_actions += int(not valid)
        observation, reward, done, _ = self._env.step(command)
        reward = float(reward or 0.0)
        if done:
            self.final_reward = reward
        self.done = bool(done) or self.steps >= self.max_steps
        if not done:
            self.available = self._env.get_available_actions()
        msg = self.prompt.observation(
            observation, admissible_actions(self.available), self.steps, self.max_steps
        )
        return EnvStep(
            [msg], self.done, reward, invalid=not valid, info={"action": command, "purchased": bool(done)}
        )

    def score(self) -> dict[str, float]:
        return {
            "reward": self.final_reward,
            "score": self.final_reward,
            "success": float(self.final_reward == 1.0),
            "steps": float(self.steps),
            "invalid_actions": float(self.invalid_actions),
        }

    def close(self) -> None:
        if self._env is not None:
            close = getattr(self._env, "close", None)
            if callable(close):
                close()
            self._env = None
