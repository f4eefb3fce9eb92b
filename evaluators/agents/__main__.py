"""``python -m evaluators.agents env=alfworld model=smollm2-135m episodes=2 max_new_tokens=48``

The agent evaluation's command line (:class:`evaluators.common.cli.EvaluatorCLI`): composes
:class:`evaluators.agents.config.AgentEvalConfig` with the model group ``experiments/model/<name>.yaml``, once per
environment of ``envs=[...]``. Outputs go to ``results/samples/<run>/<env>.jsonl`` and ``results/metrics/<run>/``
(see ``evaluators/agents/run.py``).

ALFWorld data: ``data_dir=`` or ``$ALFWORLD_DATA`` (``alfworld-download``'s folder); without either, the
project's small generated games in ``data/agents/alfworld`` are played (with a warning: they are not the
benchmark). WebShop: ``env=webshop data_dir=<WebShop checkout>``.
"""

from __future__ import annotations

from evaluators.agents.config import AgentEvalConfig
from evaluators.agents.registry import ENVS
from evaluators.agents.tasks import TASK_TYPES
from evaluators.common.cli import EvaluatorCLI

CLI = EvaluatorCLI(
    prog="evaluators.agents",
    summary="Agent evaluation (paper Table 3): play multi-turn ALFWorld, WebShop or TextWorld episodes with the "
    "model and write success rates per task type. ALFWorld data: data_dir= or $ALFWORLD_DATA (alfworld-download's "
    "folder); without either the project's small generated games in data/agents/alfworld are played (not the "
    "benchmark). WebShop: env=webshop data_dir=<WebShop checkout>.",
    examples=[
        "python -m evaluators.agents env=alfworld model=smollm2-135m episodes=2 max_new_tokens=48",
        "python -m evaluators.agents envs=[alfworld,webshop] checkpoint=results/runs/<run>/final_model method=resrl",
    ],
    config_name="agent_eval",
    schema=AgentEvalConfig,
    headline=lambda conf, out: (
        f"env {conf.env}, split {conf.resolved_split}, episodes {conf.episodes}, "
        f"max_steps {conf.resolved_max_steps}, max_new_tokens {conf.max_new_tokens}, data {out['data_source']}"
    ),
    repeat=("env", ("envs", "benchmarks"), ENVS, "agent env"),
    choices={
        "env": ENVS,
        "envs": ENVS,
        "task_types": TASK_TYPES,
    },
    extra=[("envs", "[alfworld]", "environments to evaluate, one after the other (same as env= for one)")],
)
main = CLI.main  # and CLI.compose, CLI.compose_all, CLI.help_text

if __name__ == "__main__":
    main()
