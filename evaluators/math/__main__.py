"""``python -m evaluators.math model=smollm2-135m benchmarks=[math500] n=16 limit=5``

Hydra entry point of the math evaluation; the config is ``experiments/benchmark/math_eval.yaml`` (typed
by :class:`evaluators.math.config.MathEvalConfig`; unknown keys and bad values are rejected in one line, before
Hydra runs: ``resrl.cli_errors.hydra_cli``). Other presets: ``--config-name math_paper`` (Avg@16 on all six),
``math_passk`` (n=128), ``math_smoke``. ``--help`` lists every field with its default and valid values.
"""

from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig, OmegaConf

from evaluators.common.cli import DEVICES, FORMATS, model_names, render_help
from evaluators.math.benchmarks import BENCHMARKS
from evaluators.math.config import ENGINES, MathEvalConfig
from resrl.cli_errors import exit_on_user_error, group_options, hydra_cli
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments" / "benchmark"
PRESETS = ("math_eval", "math_paper", "math_passk", "math_smoke")


def to_config(cfg: DictConfig) -> MathEvalConfig:
    """Validate a composed Hydra config against the dataclass schema."""
    merged = OmegaConf.merge(OmegaConf.structured(MathEvalConfig), cfg)
    return OmegaConf.to_object(merged)


def help_text() -> str:
    return render_help(
        "evaluators.math",
        "Math evaluation (paper Table 1 and the Pass@k curves): sample n answers per problem, grade them with "
        "math-verify, and write Avg@n and Pass@k with bootstrap intervals. A rerun samples only what is missing "
        "from results/samples/<run>/ and refuses samples drawn by another model or with other settings.",
        [
            "python -m evaluators.math model=smollm2-135m benchmarks=[math500] limit=5 n=4 max_new_tokens=256",
            "python -m evaluators.math checkpoint=results/runs/<run>/final_model method=resrl n=16",
            "python -m evaluators.math --config-name math_paper model=qwen3-4b engine=vllm",
        ],
        CONFIG_DIR,
        "math_eval",
        MathEvalConfig,
        {
            "model": model_names,
            "benchmarks": sorted(BENCHMARKS),
            "engine": ENGINES,
            "device": DEVICES,
            "format": FORMATS,
            "prompt": lambda: group_options(CONFIG_DIR, "prompt"),
        },
        hide=("prompt.name", "prompt.instruction", "prompt.template", "prompt.demos"),
        notes=[
            f"presets (--config-name NAME): {', '.join(PRESETS)} (default math_eval). prompt=<name> picks a "
            "prompt preset; prompt.<field>=... changes one of its fields. --cfg job prints the composed config."
        ],
    )


@hydra_cli(CONFIG_DIR, "math_eval", schema=MathEvalConfig, help_text=help_text, presets=PRESETS)
@hydra.main(version_base=None, config_path=str(CONFIG_DIR), config_name="math_eval")
def main(cfg: DictConfig) -> None:
    from evaluators.math.run import format_table, run

    logging.getLogger("evaluators").setLevel(logging.INFO)
    # a bad field (unknown benchmark, pass_ks > n, ...) or file: one "error: ..." line, exit status 2
    with exit_on_user_error(extra=(KeyError,)):
        conf = to_config(cfg)
    with exit_on_user_error():
        out = run(conf)
    print(
        f"\nrun {out['run_name']}  (model {conf.source}, method {conf.method}, n={conf.n}, "
        f"limit={conf.limit}, max_new_tokens={conf.max_new_tokens})"
    )
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_dir']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


if __name__ == "__main__":
    main()
