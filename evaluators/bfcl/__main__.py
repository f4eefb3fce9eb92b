"""``python -m evaluators.bfcl model=smollm2-135m subset=base limit=2 max_new_tokens=64``

BFCL v3 multi-turn accuracy (paper Table 4) through bfcl-eval's executable APIs and checker. Composes
``experiments/model/<model>.yaml`` with Hydra (overrides as ``key=value``) and validates the result against
:class:`evaluators.bfcl.config.BFCLEvalConfig`; ``subset`` is one of base, miss_func, miss_param,
long_context or all. ``--cfg`` prints the composed config and exits. Outputs go to
``results/samples/<run>/bfcl_<category>.jsonl`` and ``results/metrics/<run>/bfcl.csv`` (see ``run.py``).
"""

from __future__ import annotations

import logging
import sys

from omegaconf import OmegaConf

from evaluators.bfcl.config import BFCLEvalConfig
from evaluators.common.cli import compose_config
from resrl.cli_errors import exit_on_user_error
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments"
CONFIG_NAME = "bfcl_eval"


def compose(overrides: list[str]) -> BFCLEvalConfig:
    """The validated config for ``overrides`` (Hydra syntax)."""
    return compose_config(CONFIG_DIR, CONFIG_NAME, BFCLEvalConfig, overrides)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        return
    show = "--cfg" in args
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    # a bad override, field or file: one "error: ..." line, exit status 2
    with exit_on_user_error(extra=(HydraException, OmegaConfBaseException, KeyError)):
        conf = compose([a for a in args if a != "--cfg"])
    if show:
        print(OmegaConf.to_yaml(OmegaConf.structured(conf)))
        return
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from evaluators.bfcl.run import format_table, run

    with exit_on_user_error():
        out = run(conf)
    print(f"\nrun {out['run_name']}  (subset {conf.subset}, limit={conf.limit}, call_format={conf.call_format}, "
          f"max_new_tokens={conf.max_new_tokens}, max_turn_steps={conf.max_turn_steps})")
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_dir']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


if __name__ == "__main__":
    main()
