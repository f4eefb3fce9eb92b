"""``python -m evaluators.math model=smollm2-135m benchmarks=[math500] n=16 limit=5``

The math evaluation's command line (:class:`evaluators.common.cli.EvaluatorCLI`). The config is
``experiments/benchmark/math_eval.yaml``, typed by :class:`evaluators.math.config.MathEvalConfig`; other presets:
``--config-name math_paper`` (Avg@16 on all six), ``math_passk`` (n=128), ``math_smoke``. ``--help`` lists every
field with its default and valid values; a bad field is one ``error: ...`` line and exit status 2.
"""

from __future__ import annotations

from evaluators.common.cli import EvaluatorCLI
from evaluators.math.benchmarks import BENCHMARKS
from evaluators.math.config import MathEvalConfig
from resrl.cli_errors import group_options
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments" / "benchmark"
PRESETS = ("math_eval", "math_paper", "math_passk", "math_smoke")

CLI = EvaluatorCLI(
    prog="evaluators.math",
    summary="Math evaluation (paper Table 1 and the Pass@k curves): sample n answers per problem, grade them with "
    "math-verify, and write Avg@n and Pass@k with bootstrap intervals. A rerun samples only what is missing "
    "from results/samples/<run>/ and refuses samples drawn by another model or with other settings.",
    examples=[
        "python -m evaluators.math model=smollm2-135m benchmarks=[math500] limit=5 n=4 max_new_tokens=256",
        "python -m evaluators.math checkpoint=results/runs/<run>/final_model method=resrl n=16",
        "python -m evaluators.math --config-name math_paper model=qwen3-4b engine=vllm",
    ],
    config_dir=CONFIG_DIR,
    config_name="math_eval",
    schema=MathEvalConfig,
    presets=PRESETS,
    headline=lambda conf, out: (
        f"model {conf.source}, method {conf.method}, n={conf.n}, limit={conf.limit}, "
        f"max_new_tokens={conf.max_new_tokens}"
    ),
    choices={
        "benchmarks": sorted(BENCHMARKS),
        "prompt": lambda: group_options(CONFIG_DIR, "prompt"),
    },
    hide=("prompt.name", "prompt.instruction", "prompt.template", "prompt.demos"),
    notes=["prompt=<name> picks a prompt preset; prompt.<field>=... changes one of its fields."],
)
main = CLI.main  # and CLI.compose, CLI.compose_all, CLI.help_text

if __name__ == "__main__":
    main()
