"""Read the action out of a model reply.

The prompt asks for ``<think>...</think>`` reasoning and then ``<action>...</action>`` (the agent set-up the paper
follows, Wang et al. 2025 / verl-agent). Small models drift from that format, so a reply is read leniently, in
this order:

1. the last complete ``<action>...</action>`` outside ``<think>`` blocks (an unclosed ``<think>`` ends at the
   first ``<action>``);
2. an ``<action>`` whose closing tag was cut off (e.g. by the per-reply token budget): the rest of its line;
3. the last ``Action: ...`` line (ReAct's format);
4. the whole reply, when it is one line equal to an admissible action (case-insensitive).

The action is then tidied (surrounding quotes/backticks and a final full stop removed, spaces collapsed) and,
when the admissible actions are known, matched to one of them ignoring case (the canonical spelling is kept).
A reply with none of these yields ``action=None`` and an ``error`` the environment shows the model; it never
raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_THINK = re.compile(r"<think>.*?(</think>|(?=<action>)|$)", re.IGNORECASE | re.DOTALL)
_ACTION = re.compile(r"<action>(.*?)</action>", re.IGNORECASE | re.DOTALL)
_OPEN_ACTION = re.compile(r"<action>([^\n<]*)", re.IGNORECASE)
_ACTION_LINE = re.compile(r"^\s*\**action\**\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_QUOTES = "\"'`"

NO_ACTION = (
    "no action found; write exactly one action inside <action> </action> tags, e.g. <action>look</action>"
)
EMPTY_ACTION = "the <action> </action> tags are empty"


@dataclass(frozen=True)
class ParsedAction:
    """``action``: the command to send (None when the reply has none); ``error``: why there is none;
    ``admissible``: whether ``action`` is one of the admissible actions (None when they are not known)."""

    action: str | None
    error: str | None = None
    admissible: bool | None = None


def clean_action(text: str) -> str:
    """First non-empty line, surrounding quotes/backticks and a final full stop removed, spaces collapsed."""
    line = " ".join(next((ln for ln in text.splitlines() if ln.strip()), "").split())
    previous = None
    while line != previous:  # e.g. "'look'." -> "'look'" -> "look"
        previous = line
        if line.endswith(".") and not line.endswith(".."):
            line = line[:-1].rstrip()
        line = line.strip(_QUOTES).strip()
    return line


def find_action_text(reply: str, admissible: Sequence[str] | None = None) -> str | None:
    """The raw action text of ``reply`` by rules 1-4 of the module docstring, or None."""
    outside = _THINK.sub(" ", reply)
    tagged = _ACTION.findall(outside)
    if tagged:
        return tagged[-1]
    opened = _OPEN_ACTION.findall(outside)
    if opened:
        return opened[-1]
    lines = _ACTION_LINE.findall(outside)
    if lines:
        return lines[-1]
    if admissible:
        whole = clean_action(outside)
        if "\n" not in outside.strip() and whole.lower() in {a.lower() for a in admissible}:
            return whole
    return None


def parse_action(reply: str, admissible: Sequence[str] | None = None) -> ParsedAction:
    """The action in ``reply`` (see the module docstring), matched against ``admissible`` when given."""
    raw = find_action_text(reply, admissible)
    if raw is None:
        return ParsedAction(None, NO_ACTION)
    action = clean_action(raw)
    if not action:
        return ParsedAction(None, EMPTY_ACTION)
    if admissible is None:
        return ParsedAction(action)
    by_lower = {a.lower(): a for a in admissible}
    canonical = by_lower.get(action.lower())
    if canonical is not None:
        return ParsedAction(canonical, admissible=True)
    return ParsedAction(action, admissible=False)


def check_can_step(env) -> None:
    """An environment's ``step`` guard: reset first, and no step after the episode ended (RuntimeError naming the
    episode)."""
    if env._env is None:
        raise RuntimeError(f"{env.episode_id}: step() before reset()")
    if env.done:
        raise RuntimeError(f"{env.episode_id}: step() after the episode ended")
