"""ReAct-style prompts for text agents: the task, the observation, the admissible actions, the answer format.

The paper runs its agents "following the settings in (Wang et al., 2025)" (EMPG), i.e. verl-agent's prompts: a
role sentence, ``Your task is to: ...``, the current observation, ``Your admissible actions of the current
situation are: [...]``, and the instruction to reason inside ``<think> </think>`` and answer with one admissible
action inside ``<action> </action>``. verl-agent re-renders one prompt per step with the last few (observation,
action) pairs; here the episode is one chat (``ChatEnv``), so the history is the conversation itself:

- opening messages: a system message (the role) and a user message with the task, the first observation, the
  admissible actions and the answer format;
- after each action: a user message with the step count, the new observation and the admissible actions, and a
  one-line reminder of the format;
- after an unusable reply: a user message saying what was wrong, with the admissible actions again.

``think=False`` drops the reasoning request (for tiny models and short per-reply token budgets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]

THINK_FORMAT = (
    "You should first reason step-by-step about the current situation. This reasoning process MUST be enclosed "
    "within <think> </think> tags. Once you've finished your reasoning, you should choose an admissible action "
    "for current step and present it within <action> </action> tags."
)
PLAIN_FORMAT = (
    "Choose one admissible action for the current step and present it within <action> </action> tags, "
    "for example <action>{example}</action>."
)
THINK_REMINDER = "Reason within <think> </think>, then give one admissible action within <action> </action>."
PLAIN_REMINDER = "Give one admissible action within <action> </action>."


@dataclass(frozen=True)
class AgentPrompt:
    """The wording of one environment family's prompts.

    ``system``: the role sentence; ``think``: ask for ``<think>`` reasoning before the action;
    ``list_actions``: show the admissible actions each step (when the environment gives them);
    ``max_listed``: show at most this many (None: all); ``example_action``: used in the no-think format line.
    """

    system: str
    think: bool = True
    list_actions: bool = True
    max_listed: int | None = None
    example_action: str = "look"

    def format_line(self) -> str:
        return THINK_FORMAT if self.think else PLAIN_FORMAT.format(example=self.example_action)

    def reminder(self) -> str:
        return THINK_REMINDER if self.think else PLAIN_REMINDER

    def actions_block(self, actions: Sequence[str] | None) -> str:
        """``Your admissible actions of the current situation are: ['a', 'b'].`` (empty when not listed)."""
        if not self.list_actions or not actions:
            return ""
        shown = list(actions) if self.max_listed is None else list(actions)[: self.max_listed]
        more = len(actions) - len(shown)
        listed = ", ".join(f"'{a}'" for a in shown) + (f", ... ({more} more)" if more > 0 else "")
        return f"Your admissible actions of the current situation are: [{listed}]."

    def opening(self, task: str, observation: str, actions: Sequence[str] | None) -> list[Message]:
        """System + first user message of an episode."""
        parts = [
            f"Your task is to: {task}",
            f"Your current observation is: {observation}",
            self.actions_block(actions),
            f"Now it's your turn to take an action. {self.format_line()}",
        ]
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": "\n\n".join(p for p in parts if p)},
        ]

    def observation(
        self, observation: str, actions: Sequence[str] | None, step: int, max_steps: int
    ) -> Message:
        """The user message after action number ``step`` (1-based) of at most ``max_steps``."""
        parts = [
            f"Step {step}/{max_steps}. Your current observation is: {observation}",
            self.actions_block(actions),
            self.reminder(),
        ]
        return {"role": "user", "content": "\n\n".join(p for p in parts if p)}

    def invalid(self, error: str, actions: Sequence[str] | None, step: int, max_steps: int) -> Message:
        """The user message after an unusable reply (the step still counts)."""
        parts = [
            f"Step {step}/{max_steps}. Invalid action: {error}.",
            self.actions_block(actions),
            self.reminder(),
        ]
        return {"role": "user", "content": "\n\n".join(p for p in parts if p)}


def alfworld_prompt(think: bool = True) -> AgentPrompt:
    return AgentPrompt(
        system="You are an expert agent operating in the ALFRED Embodied Environment.",
        think=think,
        example_action="go to countertop 1",
    )


def textworld_prompt(think: bool = True) -> AgentPrompt:
    return AgentPrompt(
        system="You are an expert agent playing a text adventure game.", think=think, example_action="look"
    )


def webshop_prompt(think: bool = True) -> AgentPrompt:
    return AgentPrompt(
        system="You are an expert autonomous agent operating in the WebShop e-commerce environment.",
        think=think,
        example_action="search[red shoes]",
    )


PROMPTS = {"alfworld": alfworld_prompt, "textworld": textworld_prompt, "webshop": webshop_prompt}


def make_prompt(env: str, think: bool = True) -> AgentPrompt:
    """The prompt wording of environment family ``env``."""
    try:
        return PROMPTS[env](think)
    except KeyError:
        raise ValueError(f"no prompt for env {env!r}; known: {sorted(PROMPTS)}") from None
