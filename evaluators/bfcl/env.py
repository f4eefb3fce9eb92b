"""One BFCL multi-turn test entry as a :class:`resrl.rollout.multi_turn.ChatEnv`.

The episode follows BFCL's own inference loop (``bfcl_eval/model_handler/base_handler.py``,
``inference_multi_turn_prompting``/``_FC``):

- ``reset()``: the opening messages (system prompt with the available function docs in ``prompt`` mode, or
  ``tools`` in ``fc`` mode) and the first user turn.
- ``step(reply)``: the calls in the reply are executed by BFCL's executable API classes (state kept for the
  whole episode) and their results come back as ``tool`` messages, one per call. A reply without calls (plain
  text, or calls that cannot be read) ends the user turn: the next turn's user message comes back, or the
  episode ends after the last turn. A miss_func turn without user message adds the held-out functions
  with BFCL's prompting-mode message (their docs, then "I have updated some more functions ..."), in both
  call formats (``tools`` stay those of the opening: the runner renders them once).
- More than ``max_turn_steps`` executing replies in one turn force-quit the episode (BFCL: 20, then the whole
  entry fails unless it was the last turn).
- ``score()``: BFCL's ``multi_turn_checker`` on the calls executed per turn and step (the same lists BFCL's
  evaluator decodes from the stored responses); ``reward`` = ``success`` = 1.0 when valid, else 0.0.

Calls to names that are not methods of the entry's API classes are not executed (their result is BFCL's
``NameError`` text) and not passed to the checker, so nothing but the API methods is ever ``eval``-ed.
"""

from __future__ import annotations

from typing import Any

from evaluators.bfcl.backend import ApiSession, check_turns
from evaluators.bfcl.calls import parse_reply
from evaluators.bfcl.data import BFCLEntry
from evaluators.bfcl.prompts import CALL_FORMATS, added_functions_message, opening_messages, tool_schemas
from resrl.rollout.multi_turn import EnvStep, Message

#: BFCL's ``MAXIMUM_STEP_LIMIT`` in bfcl-eval 2026.3.23 (``evaluators.bfcl.prompts.max_step_limit()`` reads it).
DEFAULT_MAX_TURN_STEPS = 20


class BFCLEnv:
    """A BFCL multi-turn episode.

    ``turn_calls[t][s]``: the calls executed at step ``s`` of user turn ``t`` (BFCL source strings; steps
    whose calls were all unknown are left out, like BFCL leaves out undecodable steps);
    ``functions``: docs offered so far (held-out ones join at their turn); ``tools``: the opening's tool
    schemas in ``fc`` mode, else None; ``turn``: index of the current user turn; ``force_quit``: the step
    limit ended the episode; ``check``: the checker's verdict once scored (``valid``, ``error_type``, ``error_message``).
    """

    def __init__(
        self,
        entry: BFCLEntry,
        *,
        call_format: str = "prompt",
        max_turn_steps: int = DEFAULT_MAX_TURN_STEPS,
        episode_id: str | None = None,
    ) -> None:
        if call_format not in CALL_FORMATS:
            raise ValueError(f"call_format={call_format!r}; allowed: {list(CALL_FORMATS)}")
        if max_turn_steps < 1:
            raise ValueError(f"max_turn_steps must be >= 1, got {max_turn_steps}")
        self.entry = entry
        self.call_format = call_format
        self.max_turn_steps = max_turn_steps
        self.episode_id = episode_id or entry.id
        self.functions: list[dict[str, Any]] = list(entry.functions)
        self.tools: list[dict[str, Any]] | None = (
            tool_schemas(self.functions) if call_format == "fc" else None
        )
        self.turn_calls: list[list[list[str]]] = []
        self.turn = 0
        self.steps_in_turn = 0
        self.done = False
        self.force_quit = False
        self.check: dict[str, Any] | None = None
        self._session: ApiSession | None = None
        self._score: dict[str, float] | None = None

    # -- ChatEnv ------------------------------------------------------------------------------------------
    def reset(self) -> list[Message]:
        self.close()
        self.functions = list(self.entry.functions)
        self.tools = tool_schemas(self.functions) if self.call_format == "fc" else None
        self.turn_calls, self.turn, self.steps_in_turn = [[]], 0, 0
        self.done, self.force_quit, self.check, self._score = False, False, None, None
        self._session = ApiSession(self.entry)
        return opening_messages(self._turn_messages(0), self.functions, self.call_format)

    def step(self, action: str) -> EnvStep:
        if self._session is None:
            raise RuntimeError(f"{self.episode_id}: step() before reset()")
        if self.done:
            raise RuntimeError(f"{self.episode_id}: step() after the episode ended")
        parsed = parse_reply(action)
        info: dict[str, Any] = {"turn": self.turn, "step": self.steps_in_turn, "format": parsed.format}
        if parsed.errors:
            info["parse_errors"] = parsed.errors
        if not parsed.calls:
            return self._end_turn(info, invalid=parsed.malformed)

        known = [c.source() for c in parsed.calls if c.name in self._session.method_names]
        results = iter(self._session.execute(known))
        messages = []
        for c in parsed.calls:
            src = c.source()
            if c.name in self._session.method_names:
                content = next(results)
            else:
                content = f"Error during execution: name '{c.name}' is not defined"
            messages.append({"role": "tool", "name": src, "content": content})
        if known:
            self.turn_calls[-1].append(known)
        info["calls"] = [c.source() for c in parsed.calls]
        unknown = [c.name for c in parsed.calls if c.name not in self._session.method_names]
        if unknown:
            info["unknown_functions"] = unknown
        self.steps_in_turn += 1
        if self.steps_in_turn > self.max_turn_steps:
            self.force_quit = True
            info["force_quit"] = True
            self._finish()
        return EnvStep(
            messages, self.done, self._final_reward(), invalid=parsed.malformed or bool(unknown), info=info
        )

    def score(self) -> dict[str, float]:
        """The checker's verdict on the turns completed so far (an unfinished turn does not count); cached once
        the episode is over."""
        if self._score is not None:
            return dict(self._score)
        turns = self.turn_calls if self.done else self.turn_calls[:-1]
        self.check = check_turns(self.entry, turns)
        ok = 1.0 if self.check.get("valid") else 0.0
        score = {
            "reward": ok,
            "success": ok,
            "turns_completed": float(len(turns)),
            "num_turns": float(self.entry.num_turns),
            "calls_executed": float(sum(len(step) for turn in self.turn_calls for step in turn)),
            "force_quit": 1.0 if self.force_quit else 0.0,
        }
        if self.done:
            self._score = score
        return dict(score)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- turns --------------------------------------------------------------------------------------------
    def _turn_messages(self, t: int) -> list[dict[str, Any]]:
        """The user messages opening turn ``t``; a held-out turn adds its functions first."""
        if t in self.entry.held_out:
            added = self.entry.held_out[t]
            self.functions = self.functions + list(added)
            return [added_functions_message(added)]
        return [dict(m) for m in self.entry.question[t]]

    def _end_turn(self, info: dict[str, Any], invalid: bool) -> EnvStep:
        info["end_of_turn"] = True
        if self.turn + 1 >= self.entry.num_turns:
            self._finish()
            return EnvStep([], True, self._final_reward(), invalid=invalid, info=info)
        self.turn += 1
        self.steps_in_turn = 0
        self.turn_calls.append([])
        return EnvStep(self._turn_messages(self.turn), False, 0.0, invalid=invalid, info=info)

    def _finish(self) -> None:
        self.done = True
        self.score()

    def _final_reward(self) -> float:
        return self._score["reward"] if self.done and self._score is not None else 0.0
