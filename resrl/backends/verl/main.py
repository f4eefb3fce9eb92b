"""The entry the launcher runs: veRL's PPO main with our registrations and method environment.

``python -m resrl.backends.verl.main <veRL overrides>`` with ``$RESRL_VERL_METHOD`` set (the launcher does
both). It composes veRL's own ``ppo_trainer`` config, registers our pieces in this process, forwards the
method JSON and the setup hook to every Ray process through ``ray_kwargs.ray_init.runtime_env`` and calls
veRL's ``run_ppo`` with its V1 task runner. Joins an existing Ray cluster when ``$RAY_ADDRESS`` is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import hydra
import verl
from omegaconf import open_dict

from resrl.backends.verl.config import LOSS_AGG_ENV, METHOD_ENV, SETUP_HOOK, method_from_env

VERL_CONFIG_DIR = str(Path(verl.__file__).parent / "trainer" / "config")


def prepare(config) -> None:
    """Register here, check the method, and put the env var and setup hook into Ray's runtime env."""
    import resrl.backends.verl.register  # noqa: F401

    method_from_env()
    with open_dict(config):
        runtime_env = config.ray_kwargs.ray_init.runtime_env
        env_vars = dict(runtime_env.get("env_vars") or {})
        env_vars[METHOD_ENV] = os.environ[METHOD_ENV]
        if LOSS_AGG_ENV in os.environ:
            env_vars[LOSS_AGG_ENV] = os.environ[LOSS_AGG_ENV]
        runtime_env.env_vars = env_vars
        runtime_env.worker_process_setup_hook = SETUP_HOOK


@hydra.main(config_path=VERL_CONFIG_DIR, config_name="ppo_trainer", version_base=None)
def main(config) -> None:
    from verl.trainer.main_ppo import TaskRunnerV1, run_ppo
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config
    from verl.utils.device import auto_set_device

    prepare(config)
    auto_set_device(config)
    validate_config(
        config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config)
    )
    if not config.trainer.use_v1:
        raise ValueError("the resrl backend runs veRL's V1 trainer; keep trainer.use_v1=true")
    run_ppo(config, task_runner_class=TaskRunnerV1)


if __name__ == "__main__":
    main()
