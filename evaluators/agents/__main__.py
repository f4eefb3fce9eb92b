"""``python -m evaluators.agents env=alfworld model=smollm2-135m episodes=2 max_new_tokens=48``

Composes :class:`evaluators.agents.config.AgentEvalConfig` with the model group ``experiments/model/<name>.yaml``
(overrides as ``key=value``). ``--cfg`` prints the composed config and exits. Outputs go to
``results/samples/<run>/<env>.jsonl`` and ``results/metrics/<run>/`` (see ``evaluators/agents/run.py``).

ALFWorld data: ``data_dir=`` or ``$ALFWORLD_DATA`` (``alfworld-download``'s folder); without either, the
project's small generated games in ``data/agents/alfworld`` are played (with a warning: they are not the
benchmark). WebShop: ``env=webshop data_dir=<WebShop checkout>``.
"""

from __future__ import annotations

import logging
import sys

from omegaconf import OmegaConf

from evaluators.agents.config import AgentEvalConfig
from evaluators.common.cli import compose_config
from resrl.cli_errors import exit_on_user_error
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments"
CONFIG_NAME = "agent_eval"


def compose(overrides: list[str]) -> AgentEvalConfig:
    """The validated config for ``overrides`` (Hydra syntax)."""
    return compose_config(CONFIG_DIR, CONFIG_NAME, AgentEvalConfig, overrides)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        return
    show = "--cfg" in args
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with exit_on_user_error(extra=(HydraException, OmegaConfBaseException, KeyError)):
        conf = compose([a for a in args if a != "--cfg"])
    if show:
        print(OmegaConf.to_yaml(OmegaConf.structured(conf)))
        return
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from evaluators.agents.run import format_table, run

    with exit_on_user_error():
        out = run(conf)
    print(f"\nrun {out['run_name']}  (env {conf.env}, split {conf.resolved_split}, episodes {conf.episodes}, "
          f"max_steps {conf.resolved_max_steps}, max_new_tokens {conf.max_new_tokens}, data {out['data_source']})")
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_path']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


if __name__ == "__main__":
    main()
