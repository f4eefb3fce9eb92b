"""``python -m evaluators.agents env=alfworld model=smollm2-135m episodes=2 max_new_tokens=48``

Composes :class:`evaluators.agents.config.AgentEvalConfig` with the model group ``experiments/model/<name>.yaml``
(overrides as ``key=value``). ``--cfg`` prints the composed config and exits. Outputs go to
``results/samples/<run>/<env>.jsonl`` and ``results/metrics/<run>/`` (see ``evaluators/agents/run.py``).

ALFWorld data: ``data_dir=`` or ``$ALFWORLD_DATA`` (``alfworld-download``'s folder); without either, the
project's small generated games in ``data/agents/alfworld`` are played (with a warning: they are not the
benchmark). WebShop: ``env=webshop data_dir=<WebShop checkout>``.
"""

from __future__ import annotations

import sys

from omegaconf import OmegaConf

from evaluators.agents.config import ENGINES, FORMATS, AgentEvalConfig
from evaluators.agents.registry import ENVS
from evaluators.agents.tasks import TASK_TYPES
from evaluators.common.cli import (
    DEVICES,
    compose_config,
    model_names,
    normalize_model_overrides,
    pop_list_arg,
    render_help,
    run_cli,
)
from resrl.cli_errors import UsageError
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments"
CONFIG_NAME = "agent_eval"
CHOICES = {
    "env": ENVS,
    "envs": ENVS,
    "model": model_names,
    "engine": ENGINES,
    "device": DEVICES,
    "format": FORMATS,
    "task_types": TASK_TYPES,
}


def compose(overrides: list[str]) -> AgentEvalConfig:
    """The validated config for ``overrides`` (Hydra syntax; one environment)."""
    return compose_config(CONFIG_DIR, CONFIG_NAME, AgentEvalConfig, normalize_model_overrides(overrides))


def compose_all(overrides: list[str]) -> list[AgentEvalConfig]:
    """One validated config per environment of ``envs=[...]`` (``benchmarks=[...]`` is the same), else one."""
    envs, rest = pop_list_arg(overrides, ("envs", "benchmarks"))
    for e in envs or []:
        if e not in ENVS:
            raise UsageError(f"unknown agent env '{e}'; valid: {', '.join(ENVS)}")
    if envs is None:
        return [compose(rest)]
    return [compose([*rest, f"env={e}"]) for e in dict.fromkeys(envs)]


def help_text() -> str:
    return render_help(
        "evaluators.agents",
        "Agent evaluation (paper Table 3): play multi-turn ALFWorld, WebShop or TextWorld episodes with the model "
        "and write success rates per task type. ALFWorld data: data_dir= or $ALFWORLD_DATA (alfworld-download's "
        "folder); without either the project's small generated games in data/agents/alfworld are played (not the "
        "benchmark). WebShop: env=webshop data_dir=<WebShop checkout>.",
        [
            "python -m evaluators.agents env=alfworld model=smollm2-135m episodes=2 max_new_tokens=48",
            "python -m evaluators.agents envs=[alfworld,webshop] checkpoint=results/runs/<run>/final_model method=resrl",
        ],
        CONFIG_DIR,
        CONFIG_NAME,
        AgentEvalConfig,
        CHOICES,
        extra=[
            ("envs", "[alfworld]", "environments to evaluate, one after the other (same as env= for one)")
        ],
        notes=["--cfg prints the composed config and exits."],
    )


def _run_one(conf: AgentEvalConfig) -> None:
    from evaluators.agents.run import format_table, run

    out = run(conf)
    print(
        f"\nrun {out['run_name']}  (env {conf.env}, split {conf.resolved_split}, episodes {conf.episodes}, "
        f"max_steps {conf.resolved_max_steps}, max_new_tokens {conf.max_new_tokens}, data {out['data_source']})"
    )
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_path']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


def main(argv: list[str] | None = None) -> None:
    run_cli(
        sys.argv[1:] if argv is None else argv,
        help_text=help_text,
        compose=compose_all,
        run_one=_run_one,
        show=lambda conf: OmegaConf.to_yaml(OmegaConf.structured(conf)),
    )


if __name__ == "__main__":
    main()
