"""``TextGameEnv``: one TextWorld game (an ALFWorld ``.tw-pddl`` or a ``tw-make`` ``.z8``/``.ulx``) as a ``ChatEnv``.

The game runs in the real engines: ``textworld.start`` picks the PDDL engine (fast-downward) for ``.tw-pddl``
and the Z-machine (jericho) for Inform games. ALFWorld games get ALFWorld's wrappers, ``AlfredDemangler``
(PDDL names -> ``apple 1``) and ``AlfredInfos``, exactly as ``alfworld.agents.environment.AlfredTWEnv`` builds
them for evaluation (no domain randomisation).

Episode rules (as in verl-agent's ALFWorld environment):

- every reply is one step; after ``max_steps`` steps the episode ends (``done``), won or not;
- a reply without a readable action (``actions.parse_action``) is not sent to the game: the step counts, the
  reply is flagged ``invalid`` and the model is told what was wrong;
- an action that is not admissible is sent to the game (ALFWorld answers ``Nothing happens.``) and flagged
  ``invalid``;
- success is the game's ``won``; ``score()["reward"]`` is 1.0 for a win, else 0.0.
"""

from __future__ import annotations

import os
import re
from typing import Any

from evaluators.agents.actions import check_can_step, parse_action
from evaluators.agents.data import GameSpec
from evaluators.agents.prompting import AgentPrompt
from resrl.rollout.multi_turn import EnvStep, Message

_ALFRED_WELCOME = re.compile(r"^\s*-= Welcome to TextWorld, ALFRED! =-\s*", re.MULTILINE)
_TASK_LINE = re.compile(r"Your task is to:\s*(.+?)\s*$", re.MULTILINE)
_HIDDEN = {"help"}  # admissible but not worth listing (verl-agent drops it too)


def ensure_alfworld_data_env(data_dir: str | os.PathLike | None) -> None:
    """Point ``ALFWORLD_DATA`` at ``data_dir`` before ``alfworld`` is imported, unless the user set it:
    importing ``alfworld`` otherwise creates ``~/.cache/alfworld``."""
    if not os.environ.get("ALFWORLD_DATA") and data_dir:
        os.environ["ALFWORLD_DATA"] = str(data_dir)


def _alfworld_root(game: GameSpec) -> str:
    """The data folder holding ``json_2.1.1/`` above the game file (else the game's own folder)."""
    for parent in game.path.parents:
        if parent.name == "json_2.1.1":
            return str(parent.parent)
    return str(game.path.parent)


def open_game(game: GameSpec, walkthrough: bool = False, data_dir: str | os.PathLike | None = None) -> Any:
    """A loaded textworld ``Environment`` for ``game`` (not yet reset). ``walkthrough``: also report the game's
    walkthrough (ALFWorld: the file's, else the planner's) in ``state["extra.walkthrough"]``."""
    try:
        import textworld
    except ImportError as err:
        raise ImportError(
            f"playing {game.path} needs textworld: pip install textworld==1.7.0 ({err})"
        ) from None
    extras = ["walkthrough"] if walkthrough else []
    if game.kind == "alfworld":
        ensure_alfworld_data_env(data_dir or _alfworld_root(game))
        try:
            from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos
        except ImportError as err:
            raise ImportError(
                f"playing ALFWorld games needs alfworld: pip install alfworld==0.4.2 ({err})"
            ) from None
        infos = textworld.EnvInfos(won=True, admissible_commands=True, extras=["gamefile", *extras])
        wrappers = [AlfredDemangler(shuffle=False), AlfredInfos]
        return textworld.start(str(game.path), request_infos=infos, wrappers=wrappers)
    if game.kind == "textworld":
        infos = textworld.EnvInfos(
            won=True, lost=True, admissible_commands=True, objective=True, extras=extras
        )
        return textworld.start(str(game.path), request_infos=infos)
    raise ValueError(f"GameSpec.kind={game.kind!r}; expected 'alfworld' or 'textworld'")


def split_alfworld_intro(feedback: str) -> tuple[str, str]:
    """ALFWorld's first feedback -> (task, observation): ``Your task is to: X.`` gives the task, the welcome banner
    and the task line are removed from the observation."""
    text = _ALFRED_WELCOME.sub("", feedback)
    m = _TASK_LINE.search(text)
    if m is None:
        return "", text.strip()
    task = m.group(1).strip()
    return task, (text[: m.start()] + text[m.end() :]).strip()


def clean_textworld_feedback(feedback: str, objective: str = "") -> str:
    """Inform7 feedback without the ASCII-art banner, the ``>`` prompt line (with the status line printed on it),
    the objective text and runs of blank lines."""
    lines = [ln.rstrip() for ln in feedback.splitlines()]
    lines = [
        ln for ln in lines if re.search(r"[A-Za-z0-9]", ln) or not ln.strip()
    ]  # art lines have no letters
    lines = [ln for ln in lines if not ln.lstrip().startswith(">")]  # the prompt and the status line after it
    text = "\n".join(lines)
    if objective:
        text = "\n".join(ln.rstrip() for ln in text.replace(objective.strip(), "").splitlines())
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip()


class TextGameEnv:
    """One episode of one game (see the module docstring). ``expert=True`` also loads the game's walkthrough
    into ``self.walkthrough`` at ``reset`` (for scripted policies in tests)."""

    tools = None

    def __init__(
        self,
        game: GameSpec,
        *,
        prompt: AgentPrompt,
        max_steps: int,
        episode_id: str | None = None,
        data_dir: str | os.PathLike | None = None,
        expert: bool = False,
    ) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        self.game = game
        self.prompt = prompt
        self.max_steps = max_steps
        self.episode_id = episode_id or game.game_id
        self.data_dir = data_dir
        self.expert = expert
        self._env: Any = None
        self.task = ""
        self.walkthrough: list[str] = []
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.steps = 0
        self.invalid_actions = 0
        self.won = False
        self.done = False
        self.admissible: list[str] = []

    @property
    def task_type(self) -> str | None:
        return self.game.task_type

    def _shown_actions(self) -> list[str]:
        return [a for a in self.admissible if a not in _HIDDEN]

    def reset(self) -> list[Message]:
        self.close()
        self._reset_counters()
        self._env = open_game(self.game, walkthrough=self.expert, data_dir=self.data_dir)
        state = self._env.reset()
        self.admissible = list(state["admissible_commands"] or [])
        if self.game.kind == "alfworld":
            self.task, observation = split_alfworld_intro(state.feedback)
        else:
            self.task = (state["objective"] or "").strip()
            observation = clean_textworld_feedback(state.feedback, self.task)
        if self.expert:
            self.walkthrough = list(state.get("extra.walkthrough") or [])
        return self.prompt.opening(self.task, observation, self._shown_actions())

    def step(self, action: str) -> EnvStep:
        check_can_step(self)
        self.steps += 1
        parsed = parse_action(action, self.admissible)
        if parsed.action is None:
            self.invalid_actions += 1
            self.done = self.steps >= self.max_steps
            msg = self.prompt.invalid(
                parsed.error or "unreadable reply", self._shown_actions(), self.steps, self.max_steps
            )
            return EnvStep([msg], self.done, 0.0, invalid=True, info={"action": None, "error": parsed.error})
        state, _, _ = self._env.step(parsed.action)
        invalid = parsed.admissible is False
        self.invalid_actions += int(invalid)
        won_now = bool(state["won"]) and not self.won
        self.won = self.won or bool(state["won"])
        lost = bool(state.get("lost") or False)
        self.admissible = list(state["admissible_commands"] or [])
        self.done = self.won or lost or self.steps >= self.max_steps
        feedback = (
            state.feedback if self.game.kind == "alfworld" else clean_textworld_feedback(state.feedback)
        )
        msg = self.prompt.observation(feedback.strip(), self._shown_actions(), self.steps, self.max_steps)
        return EnvStep(
            [msg],
            self.done,
            1.0 if won_now else 0.0,
            invalid=invalid,
            info={"action": parsed.action, "won": self.won},
        )

    def score(self) -> dict[str, float]:
        return {
            "reward": float(self.won),
            "success": float(self.won),
            "steps": float(self.steps),
            "invalid_actions": float(self.invalid_actions),
        }

    def close(self) -> None:
        if self._env is not None:
            try:
                self._env.close()
            finally:
                self._env = None
