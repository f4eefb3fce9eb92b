"""The sampler interface shared by every rollout engine (transformers on CPU, vLLM on GPU)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    """How to sample: ``n`` responses per prompt (paper: temperature 0.6, top_p 1.0)."""

    n: int = 1
    temperature: float = 0.6
    top_p: float = 1.0
    max_new_tokens: int = 4096
    stop: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"SamplingParams.n must be >= 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"SamplingParams.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingParams.top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"SamplingParams.max_new_tokens must be >= 1, got {self.max_new_tokens}")


@dataclass
class Rollout:
    """One sampled response.

    ``logprobs[i]`` is the sampling policy's log-probability of ``response_ids[i]`` (after temperature),
    ``finish_reason`` is ``"stop"`` (EOS or stop string) or ``"length"`` (hit ``max_new_tokens``).
    ``action_mask``: None for a single-turn response (every response token was generated); for a multi-turn
    episode (``resrl.rollout.multi_turn.Trajectory.to_rollout``) 1 on the tokens the policy generated and 0
    on environment/template tokens between its replies (same length as ``response_ids``); ``collate``
    multiplies the response mask by it, so only generated tokens enter a loss.
    """

    prompt_index: int
    sample_index: int
    prompt_ids: list[int]
    response_ids: list[int]
    text: str
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str = "stop"
    action_mask: list[int] | None = None

    def __post_init__(self) -> None:
        if self.action_mask is not None:
            if len(self.action_mask) != len(self.response_ids):
                raise ValueError(
                    f"Rollout.action_mask has {len(self.action_mask)} entries for {len(self.response_ids)} "
                    "response tokens"
                )
            if any(m not in (0, 1) for m in self.action_mask):
                raise ValueError("Rollout.action_mask must hold only 0 and 1")

    @property
    def num_tokens(self) -> int:
        """All response tokens (for a multi-turn rollout, environment tokens included)."""
        return len(self.response_ids)

    @property
    def num_generated_tokens(self) -> int:
        """Tokens the policy generated: ``num_tokens`` for a single-turn rollout, ``sum(action_mask)`` else."""
        return len(self.response_ids) if self.action_mask is None else int(sum(self.action_mask))


@runtime_checkable
class Sampler(Protocol):
    """``generate(prompts, params)`` returns ``len(prompts) * params.n`` rollouts, prompt-major."""

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Rollout]: ...


@runtime_checkable
class TokenSampler(Protocol):
    """A sampler that also takes prompts as token ids, used exactly as given (``HFSampler``,
    ``VLLMSampler``); the multi-turn runner (``resrl.rollout.multi_turn.run_episodes``) needs it."""

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Rollout]: ...

    def generate_from_ids(self, prompts: list[list[int]], params: SamplingParams) -> list[Rollout]: ...
