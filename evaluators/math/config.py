"""Typed settings of the math evaluation (``experiments/benchmark/math_eval.yaml`` is the Hydra file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluators.math.benchmarks import BENCHMARKS, PAPER_BENCHMARKS, canonical_name
from evaluators.math.prompting import PromptConfig

ENGINES = ("auto", "hf", "vllm")
FORMATS = ("csv", "parquet")


@dataclass
class GraderConfig:
    timeout_s: float = 5.0  # per (answer, reference) check
    workers: int | None = None  # grading processes; None = CPU count


@dataclass
class MathEvalConfig:
    """One evaluation run. Defaults are the paper's (Sec. 4: Avg@16, Pass@k up to 128, 8,192 max response tokens;
    temperature 0.6 and top-p 0.95 from FlowRL's test protocol, which the paper cites)."""

    model: str | None = "smollm2-135m"  # model config name (experiments/model/<name>.yaml)
    checkpoint: str | None = (
        None  # a save_pretrained folder to evaluate instead of model (a model name works too)
    )
    method: str = "base"  # label of the training method in the metrics table (base, grpo, resrl, ...)
    model_name: str | None = (
        None  # label of the model in the metrics table; default: the model or checkpoint name
    )
    run_name: str | None = None  # default: <method>-<model label>
    benchmarks: list[str] = field(default_factory=lambda: list(PAPER_BENCHMARKS))
    limit: int | None = None  # first N problems of each benchmark (a quick subset)
    n: int = 16  # samples per problem (16 for Avg@16; 128 for Pass@128)
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 8192
    seed: int = 0
    engine: str = "auto"  # auto: vllm when a GPU and vllm are present, else hf (transformers)
    device: str = "auto"  # auto: cuda when torch sees a GPU, else cpu
    batch_size: int = 8  # sequences per generate call (hf engine)
    problems_per_chunk: int = 8  # problems sampled and stored per step (granularity of resume)
    pass_ks: list[int] | None = None  # default: powers of two up to min(n, max_k)
    max_k: int = 128
    n_boot: int = 1000  # bootstrap resamples for the confidence intervals
    ci: float = 0.95
    format: str = "csv"  # metrics file format: csv or parquet
    results_dir: str | None = None  # default: resrl.paths.results_dir()
    regrade: bool = False  # re-grade stored samples with the current grader before computing metrics
    overwrite: bool = (
        False  # stored samples of another model or other settings: false = refuse, true = delete them
    )
    prompt: PromptConfig = field(default_factory=PromptConfig)
    grader: GraderConfig = field(default_factory=GraderConfig)

    @property
    def source(self) -> str:
        """What to evaluate: the checkpoint folder (or name) when set, else the model name."""
        return self.checkpoint or self.model or ""

    def __post_init__(self) -> None:
        if isinstance(self.benchmarks, str):  # benchmarks=math500: a one-element list
            self.benchmarks = [self.benchmarks]
        if not self.checkpoint and not self.model:
            raise ValueError("no model: set model=<name> (experiments/model/) or checkpoint=<folder>")
        self.benchmarks = [canonical_name(b) for b in self.benchmarks]
        if not self.benchmarks:
            raise ValueError(f"benchmarks must name at least one of {list(BENCHMARKS)}")
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1 or null, got {self.limit}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine={self.engine!r}; allowed: {list(ENGINES)}")
        if self.format not in FORMATS:
            raise ValueError(f"format={self.format!r}; allowed: {list(FORMATS)}")
        if not 0 < self.ci < 1:
            raise ValueError(f"ci must be in (0, 1), got {self.ci}")
        if self.pass_ks is not None and any(not 1 <= k <= self.n for k in self.pass_ks):
            raise ValueError(f"pass_ks must lie in [1, n={self.n}], got {self.pass_ks}")
        for name in ("max_new_tokens", "batch_size", "problems_per_chunk", "max_k", "n_boot"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
