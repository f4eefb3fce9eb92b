"""Type checks for config dataclasses filled from YAML or the command line (where ``trainer.n=abc`` arrives as a
string): a wrong type is a ``ValueError`` naming the field, the expected type and the value, before any
comparison in ``__post_init__`` can fail with a bare ``TypeError``."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any or hint is typing.Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            return False
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return all(_matches(v, args[min(i, len(args) - 1)]) for i, v in enumerate(value)) if args else True
    return True  # dicts, nested configs, ...: checked by their own validators


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join("null" if h is type(None) else _describe(h) for h in typing.get_args(hint))
    if typing.get_origin(hint) in (tuple, list):
        return f"a list ({hint})"
    return _NAMES.get(hint, str(hint))


def check_field_types(obj: Any, prefix: str) -> None:
    """Raise ``ValueError("<prefix><field> must be <type>, got <value>")`` for the first mistyped field of ``obj``."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        hint = hints.get(f.name, Any)
        if not _matches(value, hint):
            raise ValueError(f"{prefix}{f.name} must be {_describe(hint)}, got {value!r}")
