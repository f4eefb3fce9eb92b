"""``python -m evaluators.code benchmarks=[humaneval_plus] model=smollm2-135m limit=5 n=1 max_new_tokens=512``

The code evaluation's command line (:class:`evaluators.common.cli.EvaluatorCLI`): composes
``experiments/benchmark/<benchmark>.yaml`` and ``experiments/model/<model>.yaml`` with Hydra (``benchmark.timeout_s=10``
reaches into the benchmark's settings) and validates them against :class:`evaluators.code.config.CodeEvalConfig`,
once per benchmark of ``benchmarks=[...]`` (``benchmark=<name>`` is the same as ``benchmarks=[<name>]``).
"""

from __future__ import annotations

from evaluators.code.config import BENCHMARKS, CodeEvalConfig
from evaluators.common.cli import EvaluatorCLI

CLI = EvaluatorCLI(
    prog="evaluators.code",
    summary="Code evaluation (paper Table 2): sample n programs per problem with the model, run them in the sandbox "
    "against the benchmark's tests, and write Avg@n and Pass@k (Codeforces: also an Elo rating). A rerun "
    "samples only what is missing from results/samples/<run>/.",
    examples=[
        "python -m evaluators.code benchmarks=[humaneval_plus] model=smollm2-135m limit=3 n=2",
        "python -m evaluators.code benchmarks=[livecodebench,codeforces] checkpoint=results/runs/<run>/final_model "
        "method=resrl",
        "python -m evaluators.code benchmark=humaneval_plus benchmark.memory_mb=2048 --cfg",
    ],
    config_name="code_eval",
    schema=CodeEvalConfig,
    headline=lambda conf, out: (
        f"benchmark {conf.benchmark.name}, n={conf.n}, limit={conf.limit}, "
        f"max_new_tokens={conf.max_new_tokens}, sandbox {out['sandbox_mode']} mode, {conf.workers} workers"
    ),
    groups={"benchmark": BENCHMARKS},
    repeat=("benchmark", ("benchmarks", "benchmark"), BENCHMARKS, "code benchmark"),
    choices={
        "benchmarks": BENCHMARKS,
    },
    extra=[
        (
            "benchmarks",
            "[humaneval_plus]",
            "benchmarks to evaluate, one after the other (benchmark=<name> is the same as benchmarks=[<name>])",
        )
    ],
    hide=("benchmark", "benchmark.name"),
    notes=[
        "benchmark.* fields tune the sandbox limits of the chosen benchmark (its experiments/benchmark/<name>.yaml "
        "holds the defaults shown for humaneval_plus)."
    ],
)
main = CLI.main  # and CLI.compose, CLI.compose_all, CLI.help_text

if __name__ == "__main__":
    main()
