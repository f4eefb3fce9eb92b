"""``python -m evaluators.bfcl model=smollm2-135m subset=base limit=2 max_new_tokens=64``

BFCL v3 multi-turn accuracy (paper Table 4) through bfcl-eval's executable APIs and checker; the command line is
:class:`evaluators.common.cli.EvaluatorCLI` over :class:`evaluators.bfcl.config.BFCLEvalConfig` with the model group
``experiments/model/<model>.yaml``. ``subset`` is one of base, miss_func, miss_param, long_context or all. Outputs
go to ``results/samples/<run>/bfcl_<category>.jsonl`` and ``results/metrics/<run>/bfcl.csv`` (see ``run.py``).
"""

from __future__ import annotations

from evaluators.bfcl.config import BFCLEvalConfig
from evaluators.bfcl.data import CATEGORIES
from evaluators.bfcl.prompts import CALL_FORMATS
from evaluators.common.cli import EvaluatorCLI

CLI = EvaluatorCLI(
    prog="evaluators.bfcl",
    summary="BFCL v3 multi-turn evaluation (paper Table 4): run each entry's user turns with the model, execute "
    "its function calls on bfcl-eval's API classes, and score them with bfcl-eval's own checker.",
    examples=[
        "python -m evaluators.bfcl model=smollm2-135m subset=base limit=2 max_new_tokens=64",
        "python -m evaluators.bfcl checkpoint=results/runs/<run>/final_model method=resrl subset=all",
    ],
    config_name="bfcl_eval",
    schema=BFCLEvalConfig,
    headline=lambda conf, out: (
        f"subset {conf.subset}, limit={conf.limit}, call_format={conf.call_format}, "
        f"max_new_tokens={conf.max_new_tokens}, max_turn_steps={conf.max_turn_steps}"
    ),
    choices={
        "subset": ("all", *CATEGORIES),
        "call_format": CALL_FORMATS,
    },
)
main = CLI.main  # and CLI.compose, CLI.compose_all, CLI.help_text

if __name__ == "__main__":
    main()
