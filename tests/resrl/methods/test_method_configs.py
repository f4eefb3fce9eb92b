"""Method YAMLs are typed by the method dataclasses (Hydra structured-config schemas) and hold only what differs;
every method x task x trainer composes through the training CLI's config and validates."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

import resrl.methods as methods
from resrl.methods.schema import register_method_schemas
from resrl.paths import REPO_ROOT
from resrl.tasks import make_task
from resrl.trainer.config import TrainerConfig

EXPERIMENTS = REPO_ROOT / "experiments"
TASKS = sorted(p.stem for p in (EXPERIMENTS / "task").glob("*.yaml"))
TRAINERS = sorted(p.stem for p in (EXPERIMENTS / "trainer").glob("*.yaml"))


def _compose(*overrides):
    register_method_schemas()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
            return OmegaConf.to_container(
                compose(config_name="train", overrides=list(overrides)), resolve=True
            )
    finally:
        GlobalHydra.instance().clear()


def test_every_method_task_and_trainer_composes_and_validates():
    built = 0
    for name in methods.names():
        for task in TASKS:
            for trainer in TRAINERS:
                cfg = _compose(f"method={name}", f"task={task}", f"trainer={trainer}")
                method = methods.build(**cfg["method"])
                assert method.name == name and vars(method.cfg) == vars(
                    methods.build(name).cfg
                )  # YAML = defaults
                TrainerConfig.from_mapping(cfg["trainer"])
                built += 1
        make_task(_compose(f"method={name}", "task=arith")["task"])
    assert built == len(methods.names()) * len(TASKS) * len(TRAINERS)


def test_a_mistyped_method_field_fails_at_composition_naming_it():
    with pytest.raises(Exception, match=r"rank"):
        _compose("method=resrl", "method.rank=abc")
    with pytest.raises(Exception, match=r"rnak"):
        _compose("method=resrl", "method.rnak=3")


def test_method_yamls_hold_only_what_differs():
    for path in (EXPERIMENTS / "method").glob("*.yaml"):
        import yaml

        data = yaml.safe_load(path.read_text())
        assert data["defaults"][0] == f"{data['name']}_schema"
        cls = methods.get(data["name"]).Config
        same = [k for k, v in data.items() if k not in ("defaults", "name") and getattr(cls(), k) == v]
        assert not same, f"{path.name} repeats dataclass defaults: {same}"
