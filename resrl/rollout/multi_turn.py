"""Multi-turn episodes: the contract between chat environments (ALFWorld, WebShop, BFCL) and the policy.

An environment speaks chat messages. ``reset()`` gives the opening messages (system/user), ``step(text)``
takes the assistant's whole reply and returns the messages the environment appends (an observation as a
``user`` turn, tool results as ``tool`` turns), whether the episode is over, and a per-step reward.
``score()`` at the end gives the episode's metrics; ``score()["reward"]`` is the per-trajectory reward a
trainer uses, ``score()["success"]`` is 1.0 or 0.0.

``run_episodes`` (below) drives a batch of environments with one sampler: every active environment
generates in one batched call per turn. The result, a ``Trajectory``, keeps the transcript and the token
sequence the policy saw: ``prompt_ids`` (opening messages + generation prompt), then ``response_ids`` with
assistant tokens (``action_mask`` 1) interleaved with environment tokens (``action_mask`` 0), so a trainer
computes its loss on the assistant tokens only.

Token bookkeeping (why the ids are built incrementally)
-------------------------------------------------------
The ids are never re-derived from text. ``prompt_ids`` is the tokenised chat-template rendering of the
opening messages (``resrl.models.format_chat``, with ``tools=env.tools`` when not None). Each reply is kept
as the exact ids the sampler generated (EOS included when it stopped on one), with the sampler's log-probs.
Each environment turn is appended as the *template's delta*: the text the template puts between the end of
an assistant reply and the next generation prompt, tokenised on its own (see ``template_delta``). The next
turn is then sampled from exactly this id sequence through the sampler's ``generate_from_ids`` (``HFSampler``
pads the ids itself, ``VLLMSampler`` passes ``TokensPrompt``\\ s), so the policy is conditioned on, and later
trained on, the same tokens, and no text -> ids round trip can shift a token boundary or change a
log-prob's meaning.

Consequences, chosen deliberately:
- With a prefix-stable template (ChatML: SmolLM2, the tiny test model), ``decode(ids the policy saw before
  turn k)`` equals ``format_chat(messages before turn k)``; the tests check this.
- Templates that re-render earlier turns differently (Qwen3 drops the ``<think>`` block of earlier assistant
  turns) are *not* re-rendered: the policy keeps seeing its own earlier replies verbatim. The delta is taken
  after a sentinel assistant message, so the environment turns still get the template's exact markup (e.g.
  Qwen3's ``<tool_response>`` wrapping and ``<think>\\n\\n</think>`` no-think prefix in the generation prompt).
- A reply that did not end with an end-of-turn special token (cut by ``max_new_tokens`` or a stop string)
  gets the template's end-of-turn marker from the delta, with ``action_mask`` 0.
- The environment messages after the last reply (e.g. the final observation) stay in ``messages`` but are
  not tokenised: nothing was generated after them.

A sampler without ``generate_from_ids`` (only ``generate(list[str], params)``) is given the decoded ids as
text; it must then report ``prompt_ids`` equal to the ids (or none at all), else ``run_episodes`` raises,
since the trajectory would not be the sequence the policy saw.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

from resrl.rollout.base import Rollout, SamplingParams

Message = dict[str, Any]

#: Finish reasons of a ``Trajectory``.
FINISH_REASONS = ("done", "max_turns", "max_tokens")

_SENTINEL_USER = "@@resrl-delta-user@@"
_SENTINEL_REPLY = "@@resrl-delta-reply@@"


@dataclass
class EnvStep:
    """What the environment answers to one assistant reply.

    ``messages``: chat messages appended after the reply (empty when nothing is said back);
    ``done``: the episode ended (won, lost, or the environment's own limit);
    ``reward``: this step's reward (environments with only a final reward return 0.0 until the end);
    ``invalid``: the reply was not a valid action (counted by the runner, never fatal);
    ``info``: anything else worth keeping in the transcript.
    """

    messages: list[Message]
    done: bool
    reward: float = 0.0
    invalid: bool = False
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ChatEnv(Protocol):
    """One episode of a text environment, spoken in chat messages.

    ``tools``: JSON-schema tool descriptions for chat templates with tools (BFCL), or None.
    ``episode_id``: a stable id for sample files and resume.
    """

    tools: list[dict[str, Any]] | None
    episode_id: str

    def reset(self) -> list[Message]:
        """Start the episode; return the opening messages (e.g. system prompt and task description)."""
        ...

    def step(self, action: str) -> EnvStep:
        """Apply the assistant's whole reply ``action``."""
        ...

    def score(self) -> dict[str, float]:
        """Episode metrics once done (or cut off); must contain ``reward`` and ``success``."""
        ...

    def close(self) -> None:
        """Release the environment's resources (processes, files)."""
        ...


@dataclass
class Trajectory:
    """One finished (or cut-off) episode.

    ``messages``: the whole transcript (opening messages, assistant replies, environment messages);
    ``prompt_ids``: tokens of the opening messages plus the generation prompt;
    ``response_ids``: every later token, assistant replies and environment turns, in order;
    ``action_mask``: 1 on tokens the policy generated, 0 on environment/template tokens (len = response_ids);
    ``logprobs``: the sampler's log-probs on generated tokens, 0.0 elsewhere (len = response_ids);
    ``finish_reason``: ``"done"`` (the environment ended it), ``"max_turns"`` or ``"max_tokens"``;
    ``score``: ``ChatEnv.score()``; ``turns``: assistant replies; ``invalid_actions``: replies flagged invalid;
    ``step_rewards``: ``EnvStep.reward`` per stepped reply; ``replies``: the assistant replies as given to the
    environment (a reply cut by ``max_total_tokens`` is kept but was not stepped); ``step_infos``:
    ``EnvStep.info`` per stepped reply.
    """

    episode_id: str
    messages: list[Message]
    prompt_ids: list[int]
    response_ids: list[int]
    action_mask: list[int]
    logprobs: list[float]
    finish_reason: str
    score: dict[str, float]
    turns: int
    invalid_actions: int
    step_rewards: list[float] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    step_infos: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reward(self) -> float:
        """The per-trajectory reward, ``score["reward"]``."""
        return float(self.score["reward"])

    @property
    def num_generated_tokens(self) -> int:
        return int(sum(self.action_mask))

    def to_rollout(self, prompt_index: int, sample_index: int) -> Rollout:
        """This episode as one training ``Rollout``: same ids, ``action_mask`` and log-probs; ``text`` is the
        replies joined by blank lines; ``finish_reason`` ``"stop"`` when the environment ended the episode,
        ``"length"`` when a turn or token limit cut it."""
        return Rollout(
            prompt_index=prompt_index,
            sample_index=sample_index,
            prompt_ids=list(self.prompt_ids),
            response_ids=list(self.response_ids),
            text="\n\n".join(self.replies),
            logprobs=list(self.logprobs),
            finish_reason="stop" if self.finish_reason == "done" else "length",
            action_mask=list(self.action_mask),
        )


# ----------------------------------------------------------------------------------------- templates
def _template_kwargs(tools: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {"tools": tools} if tools is not None else {}


def render_prompt(
    tokenizer: Any,
    messages: list[Message],
    tools: list[dict[str, Any]] | None = None,
    enable_thinking: bool | None = None,
) -> str:
    """``format_chat`` of ``messages`` (generation prompt appended), with ``tools`` when not None."""
    from resrl.models.chat import format_chat

    return format_chat(tokenizer, messages, enable_thinking=enable_thinking, **_template_kwargs(tools))


def template_delta(
    tokenizer: Any,
    env_messages: list[Message],
    last_token: int | None,
    tools: list[dict[str, Any]] | None = None,
    enable_thinking: bool | None = None,
) -> str:
    """The text the chat template puts after an assistant reply: the end of that reply's turn, the
    environment messages ``env_messages``, and the next generation prompt.

    Rendered after a sentinel conversation (a user turn and an assistant reply with sentinel contents), so
    templates that re-render earlier turns still give their exact markup for the new messages. When the
    reply's last generated token ``last_token`` is a special token whose text starts the delta (the
    end-of-turn token the model emitted, e.g. ``<|im_end|>``), that text is dropped: it is already in the
    sequence, as a generated token.
    """
    base: list[Message] = [
        {"role": "user", "content": _SENTINEL_USER},
        {"role": "assistant", "content": _SENTINEL_REPLY},
    ]
    text = render_prompt(tokenizer, base + list(env_messages), tools, enable_thinking)
    at = text.rfind(_SENTINEL_REPLY)
    if at < 0:
        raise ValueError(
            "the chat template dropped the assistant reply's content; cannot locate the turn boundary"
        )
    tail = text[at + len(_SENTINEL_REPLY) :]
    if last_token is not None and last_token in set(tokenizer.all_special_ids):
        emitted = tokenizer.decode([last_token], skip_special_tokens=False)
        if emitted and tail.startswith(emitted):
            tail = tail[len(emitted) :]
    return tail


def encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of ``text`` without added BOS/EOS (the chat template carries every special token)."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


# ----------------------------------------------------------------------------------------- the runner
@dataclass
class _Episode:
    """Mutable state of one running episode."""

    env: Any
    tools: list[dict[str, Any]] | None
    messages: list[Message]
    prompt_ids: list[int]
    response_ids: list[int] = field(default_factory=list)
    action_mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    step_rewards: list[float] = field(default_factory=list)
    step_infos: list[dict[str, Any]] = field(default_factory=list)
    turns: int = 0
    invalid: int = 0
    finish: str | None = None

    @property
    def total(self) -> int:
        return len(self.prompt_ids) + len(self.response_ids)

    @property
    def ids(self) -> list[int]:
        return self.prompt_ids + self.response_ids

    def append(self, ids: list[int], logprobs: list[float] | None, generated: bool) -> None:
        self.response_ids.extend(ids)
        self.action_mask.extend([1 if generated else 0] * len(ids))
        self.logprobs.extend(logprobs if logprobs is not None else [0.0] * len(ids))


def turn_seed(seed: int, turn: int) -> int:
    """The sampling seed of turn ``turn`` (0-based) of episodes started with ``params.seed = seed``."""
    return int(np.random.SeedSequence([seed, turn]).generate_state(1)[0] % (2**31))


def _ids_generator(sampler: Any, tokenizer: Any):
    """``f(list of id prompts, params) -> rollouts``: the sampler's ``generate_from_ids``, or its text
    ``generate`` fed the decoded ids and checked to have seen exactly those ids."""
    from_ids = getattr(sampler, "generate_from_ids", None)
    if callable(from_ids):
        return from_ids
    if not callable(getattr(sampler, "generate", None)):
        raise TypeError(
            f"{type(sampler).__name__} is not a sampler: it has neither generate_from_ids nor generate"
        )

    def via_text(prompts: list[list[int]], params: SamplingParams) -> list[Rollout]:
        texts = [tokenizer.decode(p, skip_special_tokens=False) for p in prompts]
        rollouts = sampler.generate(texts, params)
        for i, (ids, r) in enumerate(zip(prompts, rollouts, strict=False)):
            if r.prompt_ids and list(r.prompt_ids) != list(ids):
                raise ValueError(
                    f"{type(sampler).__name__}.generate re-tokenised episode prompt {i} into different ids "
                    f"({len(r.prompt_ids)} vs {len(ids)} tokens): the trajectory would not be what the policy "
                    "saw; give the sampler a generate_from_ids(prompt_ids, params) method"
                )
        return rollouts

    return via_text


def _check_rollouts(rollouts: list[Rollout], expected: int) -> None:
    if len(rollouts) != expected:
        raise RuntimeError(
            f"the sampler returned {len(rollouts)} rollouts for {expected} prompts (params.n=1)"
        )
    for k, r in enumerate(rollouts):
        if len(r.logprobs) != len(r.response_ids):
            raise RuntimeError(f"rollout {k}: {len(r.response_ids)} tokens but {len(r.logprobs)} log-probs")


def run_episodes(
    sampler: Any,
    tokenizer: Any,
    envs: list[ChatEnv],
    params: SamplingParams,
    *,
    max_turns: int,
    max_total_tokens: int | None = None,
    enable_thinking: bool | None = None,
    progress: bool = False,
    reuse_cache: bool = True,
) -> list[Trajectory]:
    """Play every environment in ``envs`` to its end; one ``Trajectory`` per environment, in order.

    Per turn, one sampler call over all still-active episodes (``params`` with ``max_new_tokens`` as the
    per-reply budget, ``params.seed`` mixed with the turn number by ``turn_seed``; ``params.n`` must be 1).
    An episode ends when the environment says ``done`` (``"done"``), after ``max_turns`` replies
    (``"max_turns"``), or when prompt + response reach ``max_total_tokens`` (``"max_tokens"``; a reply cut
    by this budget is kept in the trajectory but not sent to the environment). ``EnvStep.invalid`` replies
    are counted. The caller owns the environments: they are reset here but never closed.

    ``reuse_cache``: a sampler that keeps key/value caches across calls (``HFSampler``: ``prefix_cache``) keeps
    each episode's, so a turn runs the model on the new tokens only (:mod:`resrl.rollout.prefix_cache`).
    """
    if params.n != 1:
        raise ValueError(f"run_episodes needs params.n == 1 (one episode per environment), got n={params.n}")
    if max_turns < 1:
        raise ValueError(f"max_turns must be >= 1, got {max_turns}")
    if max_total_tokens is not None and max_total_tokens < 1:
        raise ValueError(f"max_total_tokens must be >= 1 or None, got {max_total_tokens}")
    generate = _ids_generator(sampler, tokenizer)
    cache = None
    if reuse_cache and getattr(sampler, "supports_prefix_cache", False):
        from resrl.rollout.prefix_cache import PrefixCache

        cache = PrefixCache()
    episodes: list[_Episode] = []
    for env in envs:
        tools = getattr(env, "tools", None)
        opening = list(env.reset())
        prompt = encode(tokenizer, render_prompt(tokenizer, opening, tools, enable_thinking))
        episodes.append(_Episode(env=env, tools=tools, messages=opening, prompt_ids=prompt))

    bar = tqdm(total=max_turns, desc="episodes", disable=not progress, dynamic_ncols=True)
    try:
        for turn in range(max_turns):
            for ep in episodes:
                if ep.finish is None and max_total_tokens is not None and ep.total >= max_total_tokens:
                    ep.finish = "max_tokens"
            active = [ep for ep in episodes if ep.finish is None]
            if not active:
                break
            bar.set_postfix(active=len(active))
            cap = params.max_new_tokens
            if max_total_tokens is not None:
                cap = min(cap, max(max_total_tokens - ep.total for ep in active))
            turn_params = dataclasses.replace(params, max_new_tokens=cap, seed=turn_seed(params.seed, turn))
            if cache is None:
                rollouts = generate([ep.ids for ep in active], turn_params)
            else:  # episodes keep their key/value caches across turns, keyed by their index
                keys = [episodes.index(ep) for ep in active]
                rollouts = sampler.generate_from_ids([ep.ids for ep in active], turn_params, cache, keys)
            _check_rollouts(rollouts, len(active))
            for ep, r in zip(active, rollouts, strict=True):
                _advance(ep, r, tokenizer, params, max_turns, max_total_tokens, enable_thinking)
            bar.update(1)
    finally:
        bar.close()

    out = []
    for ep in episodes:
        score = dict(ep.env.score())
        missing = [k for k in ("reward", "success") if k not in score]
        if missing:
            raise ValueError(
                f"environment {ep.env.episode_id!r}: score() has no {missing} (got keys {sorted(score)})"
            )
        out.append(
            Trajectory(
                episode_id=ep.env.episode_id,
                messages=ep.messages,
                prompt_ids=ep.prompt_ids,
                response_ids=ep.response_ids,
                action_mask=ep.action_mask,
                logprobs=ep.logprobs,
                finish_reason=ep.finish or "max_turns",
                score=score,
                turns=ep.turns,
                invalid_actions=ep.invalid,
                step_rewards=ep.step_rewards,
                replies=ep.replies,
                step_infos=ep.step_infos,
            )
        )
    return out


def _advance(
    ep: _Episode,
    r: Rollout,
    tokenizer: Any,
    params: SamplingParams,
    max_turns: int,
    max_total_tokens: int | None,
    enable_thinking: bool | None,
) -> None:
    """Record reply ``r`` of episode ``ep``, step the environment and append its turn (or finish)."""
    ids, logprobs, text = list(r.response_ids), list(r.logprobs), r.text
    room = None if max_total_tokens is None else max_total_tokens - ep.total
    # Cut by the total budget: more tokens than the room, or the room filled without a natural stop while the
    # room (not the per-reply budget) was the binding limit.
    cut = room is not None and (
        len(ids) > room or (len(ids) == room and room < params.max_new_tokens and r.finish_reason != "stop")
    )
    if cut:
        ids, logprobs = ids[:room], logprobs[:room]
        text = tokenizer.decode(ids, skip_special_tokens=True)
    ep.append(ids, logprobs, generated=True)
    ep.messages.append({"role": "assistant", "content": text})
    ep.replies.append(text)
    ep.turns += 1
    if cut:
        ep.finish = "max_tokens"
        return
    step = ep.env.step(text)
    ep.invalid += int(bool(step.invalid))
    ep.step_rewards.append(float(step.reward))
    ep.step_infos.append(dict(step.info))
    ep.messages.extend(step.messages)
    if step.done:
        ep.finish = "done"
    elif ep.turns >= max_turns:
        ep.finish = "max_turns"
    else:
        delta = template_delta(tokenizer, step.messages, ids[-1] if ids else None, ep.tools, enable_thinking)
        ep.append(encode(tokenizer, delta), None, generated=False)
