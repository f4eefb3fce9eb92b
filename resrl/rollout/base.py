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
    """

    prompt_index: int
    sample_index: int
    prompt_ids: list[int]
    response_ids: list[int]
    text: str
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str = "stop"

    @property
    def num_tokens(self) -> int:
        return len(self.response_ids)


@runtime_checkable
class Sampler(Protocol):
    """``generate(prompts, params)`` returns ``len(prompts) * params.n`` rollouts, prompt-major."""

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Rollout]: ...
