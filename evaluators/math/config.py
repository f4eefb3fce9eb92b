"""Typed settings of the math evaluation (``experiments/benchmark/math_eval.yaml`` is the Hydra file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluators.common.config import EvalConfig
from evaluators.math.benchmarks import BENCHMARKS, PAPER_BENCHMARKS, canonical_name
from evaluators.math.prompting import PromptConfig


@dataclass
class GraderConfig:
    timeout_s: float = 5.0  # per (answer, reference) check
    workers: int | None = None  # grading processes; None = CPU count


@dataclass
class MathEvalConfig(EvalConfig):
    """One evaluation run (the shared fields: ``evaluators.common.config.EvalConfig``). Defaults are the paper's
    (Sec. 4: Avg@16, Pass@k up to 128, 8,192 max response tokens; temperature 0.6 and top-p 0.95 from FlowRL's test
    protocol, which the paper cites)."""

    model: str | None = "smollm2-135m"  # model config name (experiments/model/<name>.yaml)
    benchmarks: list[str] = field(default_factory=lambda: list(PAPER_BENCHMARKS))
    limit: int | None = None  # first N problems of each benchmark (a quick subset)
    n: int = 16  # samples per problem (16 for Avg@16; 128 for Pass@128)
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 8192
    problems_per_chunk: int = 8  # problems sampled and stored per step (granularity of resume)
    pass_ks: list[int] | None = None  # default: powers of two up to min(n, max_k)
    max_k: int = 128
    regrade: bool = False  # re-grade stored samples with the current grader before computing metrics
    prompt: PromptConfig = field(default_factory=PromptConfig)
    grader: GraderConfig = field(default_factory=GraderConfig)

    @property
    def source(self) -> str:
        """What to evaluate: the checkpoint folder (or name) when set, else the model name."""
        return self.checkpoint or self.model or ""

    def __post_init__(self) -> None:
        if isinstance(self.benchmarks, str):  # benchmarks=math500: a one-element list
            self.benchmarks = [self.benchmarks]
        super().__post_init__()
        self.benchmarks = [canonical_name(b) for b in self.benchmarks]
        if not self.benchmarks:
            raise ValueError(f"benchmarks must name at least one of {list(BENCHMARKS)}")
        self.require_pass_ks(self.n)
        self.require_positive("max_new_tokens", "problems_per_chunk", "max_k")
