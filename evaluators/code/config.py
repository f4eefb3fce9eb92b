"""Typed settings of the code evaluation. Hydra composes ``experiments/benchmark/<name>.yaml`` into
``benchmark`` and ``experiments/model/<name>.yaml`` into ``model`` (see ``evaluators/code/__main__.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluators.code.prompting import CodePromptConfig
from evaluators.common.config import EvalConfig


def _benchmark_names() -> tuple[str, ...]:
    from evaluators.code import benchmarks  # one module per benchmark in evaluators/code/benchmarks/

    return tuple(benchmarks.names())


BENCHMARKS = _benchmark_names()


@dataclass
class CodeBenchmarkConfig:
    """One benchmark (``experiments/benchmark/{humaneval_plus,livecodebench,codeforces}.yaml``).

    Fields a benchmark does not use keep their defaults. Time and memory limits apply per test (per input for
    HumanEval+, whose limits come from the reference solution's time, as in evalplus).
    """

    name: str = "humaneval_plus"
    data_path: str | None = (
        None  # file (HumanEval+, LiveCodeBench) or folder (Codeforces); null = shipped data
    )
    memory_mb: int = 1024  # address-space limit (HumanEval+, LiveCodeBench)
    # HumanEval+ (evalplus defaults)
    min_time_limit: float = 1.0
    gt_time_limit_factor: float = 4.0
    # LiveCodeBench
    timeout_s: float = 6.0  # per test (LiveCodeBench's default)
    date_from: str | None = "2024-08-01"  # release window [date_from, date_to) (DeepCoder's test window)
    date_to: str | None = "2025-02-01"
    drop_shared_tests: bool = True
    # Codeforces
    time_factor: float = 2.0  # test time limit = max(min_timeout_s, time_factor * problem time limit)
    min_timeout_s: float = 2.0
    memory_factor: float = 2.0  # address space = max(512, memory_factor * problem memory limit) MB
    skip_interactive: bool = True
    elo_lower: float = 0.0
    elo_upper: float = 4000.0

    def __post_init__(self) -> None:
        valid = _benchmark_names()  # what is registered now (a benchmark module may register after import)
        if self.name not in valid:
            raise ValueError(f"benchmark.name={self.name!r}; allowed: {list(valid)}")
        for f in (
            "memory_mb",
            "min_time_limit",
            "gt_time_limit_factor",
            "timeout_s",
            "time_factor",
            "min_timeout_s",
            "memory_factor",
        ):
            if not getattr(self, f) > 0:
                raise ValueError(f"benchmark.{f} must be > 0, got {getattr(self, f)}")
        if not self.elo_lower < self.elo_upper:
            raise ValueError(f"benchmark.elo_lower ({self.elo_lower}) must be < elo_upper ({self.elo_upper})")


@dataclass
class CodeEvalConfig(EvalConfig):
    """One evaluation run (the shared fields: ``evaluators.common.config.EvalConfig``). Defaults are the paper's
    (Sec. 4: Avg@16, Pass@k, temperature 0.6, top-p 1.0, 8,192 max response tokens, think mode for code)."""

    defaults: list[Any] = field(
        default_factory=lambda: ["_self_", {"benchmark": "humaneval_plus"}, {"model": "smollm2-135m"}]
    )
    model: dict[str, Any] = field(default_factory=dict)  # model config name (experiments/model/<name>.yaml)
    benchmark: CodeBenchmarkConfig = field(default_factory=CodeBenchmarkConfig)
    limit: int | None = None  # first N problems (a quick subset)
    n: int = 16  # samples per problem
    temperature: float = 0.6
    top_p: float = 1.0
    max_new_tokens: int = 8192
    problems_per_chunk: int = 8  # problems sampled, graded and stored per step (resume granularity)
    workers: int = 2  # sandboxes running at once
    pass_ks: list[int] | None = None  # default: powers of two up to min(n, max_k)
    max_k: int = 128
    regrade: bool = False  # re-grade stored samples (e.g. after a grader change)
    prompt: CodePromptConfig = field(default_factory=CodePromptConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require_pass_ks(self.n)
        self.require_positive("max_new_tokens", "problems_per_chunk", "max_k", "workers")
