"""``python -m evaluators.math checkpoint=smollm2-135m benchmarks=[math500] n=16 limit=5``

Hydra entry point of the math evaluation; the config is ``experiments/benchmark/math_eval.yaml`` (typed
by :class:`evaluators.math.config.MathEvalConfig`; unknown keys and bad values are rejected). Other
presets: ``--config-name math_paper`` (Avg@16 on all six), ``math_passk`` (n=128), ``math_smoke``.
"""

from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig, OmegaConf

from evaluators.math.config import MathEvalConfig
from resrl.cli_errors import exit_on_user_error
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments" / "benchmark"


def to_config(cfg: DictConfig) -> MathEvalConfig:
    """Validate a composed Hydra config against the dataclass schema."""
    merged = OmegaConf.merge(OmegaConf.structured(MathEvalConfig), cfg)
    return OmegaConf.to_object(merged)


@hydra.main(version_base=None, config_path=str(CONFIG_DIR), config_name="math_eval")
def main(cfg: DictConfig) -> None:
    from evaluators.math.run import format_table, run

    logging.getLogger("evaluators").setLevel(logging.INFO)
    # a bad field (unknown benchmark, pass_ks > n, ...) or file: one "error: ..." line, exit status 2
    with exit_on_user_error(extra=(KeyError,)):
        conf = to_config(cfg)
    with exit_on_user_error():
        out = run(conf)
    print(f"\nrun {out['run_name']}  (model {conf.checkpoint}, method {conf.method}, n={conf.n}, "
          f"limit={conf.limit}, max_new_tokens={conf.max_new_tokens})")
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_dir']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


if __name__ == "__main__":
    main()
