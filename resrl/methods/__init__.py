"""Registry of RLVR methods. ``get(name)`` returns the class; ``build(name, **fields)`` an instance.

A new method is one module in this package defining a :class:`~resrl.methods.base.Method` subclass
decorated with ``@register("name")``, plus its import below.
"""

from __future__ import annotations

from resrl.methods.base import Method, PGConfig, PolicyInputs, config_from_mapping

_REGISTRY: dict[str, type[Method]] = {}


def register(name: str):
    def deco(cls: type[Method]) -> type[Method]:
        if name in _REGISTRY:
            raise ValueError(f"method {name!r} registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> type[Method]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; valid: {', '.join(names())}") from None


def build(name: str, **fields) -> Method:
    cls = get(name)
    return cls(config_from_mapping(cls.Config, fields))


# Registration by import (each module is small and only needs torch).
from resrl.methods import dapo, empg, flowrl, grpo, nsr, ppo, resrl, rest  # noqa: E402,F401

__all__ = ["Method", "PGConfig", "PolicyInputs", "build", "get", "names", "register"]
