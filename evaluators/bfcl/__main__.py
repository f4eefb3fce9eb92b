"""``python -m evaluators.bfcl model=smollm2-135m subset=base limit=2 max_new_tokens=64``

BFCL v3 multi-turn accuracy (paper Table 4) through bfcl-eval's executable APIs and checker. Composes
``experiments/model/<model>.yaml`` with Hydra (overrides as ``key=value``) and validates the result against
:class:`evaluators.bfcl.config.BFCLEvalConfig`; ``subset`` is one of base, miss_func, miss_param,
long_context or all. ``--cfg`` prints the composed config and exits. Outputs go to
``results/samples/<run>/bfcl_<category>.jsonl`` and ``results/metrics/<run>/bfcl.csv`` (see ``run.py``).
"""

from __future__ import annotations

import sys

from omegaconf import OmegaConf

from evaluators.bfcl.config import ENGINES, FORMATS, BFCLEvalConfig
from evaluators.bfcl.data import CATEGORIES
from evaluators.bfcl.prompts import CALL_FORMATS
from evaluators.common.cli import (
    DEVICES,
    compose_config,
    model_names,
    normalize_model_overrides,
    render_help,
    run_cli,
)
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments"
CONFIG_NAME = "bfcl_eval"
CHOICES = {
    "subset": ("all", *CATEGORIES),
    "call_format": CALL_FORMATS,
    "model": model_names,
    "engine": ENGINES,
    "device": DEVICES,
    "format": FORMATS,
}


def compose(overrides: list[str]) -> BFCLEvalConfig:
    """The validated config for ``overrides`` (Hydra syntax)."""
    return compose_config(CONFIG_DIR, CONFIG_NAME, BFCLEvalConfig, normalize_model_overrides(overrides))


def help_text() -> str:
    return render_help(
        "evaluators.bfcl",
        "BFCL v3 multi-turn evaluation (paper Table 4): run each entry's user turns with the model, execute its "
        "function calls on bfcl-eval's API classes, and score them with bfcl-eval's own checker.",
        [
            "python -m evaluators.bfcl model=smollm2-135m subset=base limit=2 max_new_tokens=64",
            "python -m evaluators.bfcl checkpoint=results/runs/<run>/final_model method=resrl subset=all",
        ],
        CONFIG_DIR,
        CONFIG_NAME,
        BFCLEvalConfig,
        CHOICES,
        notes=["--cfg prints the composed config and exits."],
    )


def _run_one(conf: BFCLEvalConfig) -> None:
    from evaluators.bfcl.run import format_table, run

    out = run(conf)
    print(
        f"\nrun {out['run_name']}  (subset {conf.subset}, limit={conf.limit}, call_format={conf.call_format}, "
        f"max_new_tokens={conf.max_new_tokens}, max_turn_steps={conf.max_turn_steps})"
    )
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_dir']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


def main(argv: list[str] | None = None) -> None:
    run_cli(
        sys.argv[1:] if argv is None else argv,
        help_text=help_text,
        compose=lambda o: [compose(o)],
        run_one=_run_one,
        show=lambda conf: OmegaConf.to_yaml(OmegaConf.structured(conf)),
    )


if __name__ == "__main__":
    main()
