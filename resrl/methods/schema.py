"""Each method's config dataclass as a Hydra structured-config schema (``method/<name>_schema`` in Hydra's
ConfigStore), so a method YAML under ``experiments/method/`` holds only what differs from the dataclass defaults
and every field is type-checked when the config is composed (``method.rank=abc`` fails there, naming the key)."""

from __future__ import annotations

from dataclasses import field, make_dataclass

import resrl.methods as methods


def schema_name(method: str) -> str:
    return f"{method}_schema"


def register_method_schemas() -> list[str]:
    """Store every registered method's schema (its Config plus a ``name`` field) in Hydra's ConfigStore under the
    group ``method``; returns the stored names. Idempotent."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    stored = []
    for name in methods.names():
        config_cls = methods.get(name).Config
        schema = make_dataclass(
            f"{config_cls.__name__}Schema", [("name", str, field(default=name))], bases=(config_cls,)
        )
        store.store(group="method", name=schema_name(name), node=schema)
        stored.append(schema_name(name))
    return stored
