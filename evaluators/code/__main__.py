"""``python -m evaluators.code benchmark=humaneval_plus model=smollm2-135m limit=5 n=1 max_new_tokens=512``

Composes ``experiments/benchmark/<benchmark>.yaml`` and ``experiments/model/<model>.yaml`` with Hydra (overrides
as ``key=value``; ``benchmark.timeout_s=10`` reaches into a group) and validates them against
:class:`evaluators.code.config.CodeEvalConfig`. ``--cfg`` prints the composed config and exits. No Hydra run
folders are created: outputs go to ``results/samples/<run>/`` and ``results/metrics/<run>/`` (see ``run.py``).
"""

from __future__ import annotations

import logging
import sys

from omegaconf import OmegaConf

from evaluators.code.config import CodeEvalConfig
from evaluators.common.cli import compose_config
from resrl.cli_errors import exit_on_user_error
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments"
CONFIG_NAME = "code_eval"


def compose(overrides: list[str]) -> CodeEvalConfig:
    """The validated config for ``overrides`` (Hydra syntax)."""
    return compose_config(CONFIG_DIR, CONFIG_NAME, CodeEvalConfig, overrides)


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
    from evaluators.code.run import format_table, run

    with exit_on_user_error():
        out = run(conf)
    print(
        f"\nrun {out['run_name']}  (benchmark {conf.benchmark.name}, n={conf.n}, limit={conf.limit}, "
        f"max_new_tokens={conf.max_new_tokens}, sandbox {out['sandbox_mode']} mode, {conf.workers} workers)"
    )
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_path']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


if __name__ == "__main__":
    main()
