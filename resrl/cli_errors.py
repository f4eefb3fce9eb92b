"""One clear line instead of a traceback or Hydra's multi-line advice when a command line run is given a bad config,
override or input file.

Every CLI of the project wraps its validation and its run in :func:`exit_on_user_error`: a user error (a bad value,
an unknown name or key, a missing or malformed file, a missing package, a results folder another process holds) is
printed as ``error: <message>`` on stderr and the process exits with status 2. The messages name the field or file
and the allowed values (the validators write them that way; Hydra's and OmegaConf's own errors are rephrased by
:func:`describe_config_error`). Other exceptions are bugs and keep their traceback. ``RESRL_TRACEBACK=1`` re-raises
user errors too, for debugging.

Hydra itself reports a bad override (an unknown key, a missing group option, an ambiguous ``a,b`` value) before the
task function runs, over several lines, with exit status 1. :func:`check_overrides` composes the same overrides
first and raises one :class:`UsageError` line instead, and :func:`hydra_cli` applies it to a ``@hydra.main``
entry point::

    @hydra_cli(CONFIG_DIR, "train")                      # outermost: checks sys.argv, then calls Hydra
    @hydra.main(config_path=str(CONFIG_DIR), config_name="train", version_base="1.3")
    def main(cfg): ...

A bare value for a list field (``benchmarks=math500``) becomes a one-element list; ``-m`` sweeps are checked with
their first value.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
import sys
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from resrl.records.lock import FolderLocked

#: Exit status of a run stopped by a user error (argparse's convention for usage errors).
USER_ERROR_STATUS = 2


class UsageError(ValueError):
    """A user error whose message is the one line to print (a bad override, key or value)."""


#: Exceptions that mean "bad input", not "bug": bad values and names, missing or malformed files, missing packages,
#: a run folder locked by another process. Hydra's and OmegaConf's exceptions are added when they are importable.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    ImportError,
    FolderLocked,
)


def _config_errors() -> tuple[type[BaseException], ...]:
    out: list[type[BaseException]] = []
    try:
        from hydra.errors import HydraException

        out.append(HydraException)
    except ImportError:
        pass
    try:
        from omegaconf.errors import OmegaConfBaseException

        out.append(OmegaConfBaseException)
    except ImportError:
        pass
    return tuple(out)


def nearest(word: str, options: Sequence[str]) -> str | None:
    """The option closest to ``word`` (a likely misspelling), or None."""
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key_message(key: str, valid: Sequence[str]) -> str:
    """``unknown key 'limt' (did you mean 'limit'?); valid: a, b, ...``"""
    leaf = key.rsplit(".", 1)[-1]
    prefix = key[: -len(leaf)]
    guess = nearest(leaf, [v[len(prefix) :] if v.startswith(prefix) else v for v in valid])
    hint = f" (did you mean '{prefix}{guess}'?)" if guess else ""
    return f"unknown key '{key}'{hint}; valid: {', '.join(valid)}"


# ------------------------------------------------------------------------------------------------ rephrasing
_KINDS = (
    ("could not be converted to Integer", "an integer"),
    ("could not be converted to Float", "a number"),
    ("is not a valid bool", "true or false"),
    ("is not a ListConfig", "a list like [a,b]"),
    ("is not a DictConfig", "a mapping like {a: 1}"),
    ("could not be converted to String", "a string"),
    ("Non optional field cannot be assigned None", "set (not null)"),
)


def describe_config_error(err: BaseException) -> str | None:
    """One line for a Hydra or OmegaConf error (None when ``err`` is neither). Names the key, what it must be and
    what it got, or the valid options of a config group."""
    name = type(err).__name__
    module = type(err).__module__ or ""
    if not (module.startswith("omegaconf") or module.startswith("hydra")):
        return None
    cause = err.__cause__
    if (
        module.startswith("hydra")
        and cause is not None
        and (type(cause).__module__ or "").startswith("omegaconf")
    ):
        described = describe_config_error(cause)  # "Error merging override n=abc": the cause names the field
        if described and not described.startswith("unknown key"):
            return described
    msg = str(getattr(err, "msg", None) or err)
    first = msg.strip().splitlines()[0] if msg.strip() else name
    full_key = getattr(err, "full_key", None)
    if module.startswith("omegaconf") and full_key:
        value = getattr(err, "value", None)
        for needle, kind in _KINDS:
            if needle in msg:
                got = "null" if value is None else repr(value)
                return f"{full_key} must be {kind}, got {got}"
        if name in ("ConfigKeyError", "ConfigAttributeError") or "not in" in first:
            valid = _fields_of(getattr(err, "object_type", None))
            return unknown_key_message(str(full_key), valid) if valid else f"unknown key '{full_key}'"
        return f"{full_key}: {first}"
    options = getattr(err, "options", None)
    m = re.search(r"Could not find '([^']+)/([^'/]+)'", msg)
    if m and options is not None:
        group, value = m.groups()
        return f"{group}='{value}' is not one of: {', '.join(options)}"
    m = re.search(r"Could not override '([^']+)'", msg)
    if m:
        return f"unknown key '{m.group(1)}' (to add a key, write +{m.group(1)}=...)"
    m = re.search(r"Ambiguous value for argument '([^=']+)=([^']*)'", msg)
    if m:
        key, value = m.groups()
        return (
            f"{key}={value}: a comma makes a sweep; write {key}=[{value}] for a list, quote it "
            f"({key}='{value}') for a string, or add -m to sweep"
        )
    if name == "OverrideParseException":
        return f"cannot parse the override: {first}"
    return "; ".join(p.strip() for p in msg.splitlines() if p.strip() and "hydra.cc/docs" not in p) or name


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line: Hydra/OmegaConf errors rephrased (:func:`describe_config_error`), KeyError
    without its repr quotes, multi-line messages joined by '; ', then its cause's when that adds something."""
    described = describe_config_error(err)
    if described is not None:
        return described
    msg = (
        err.args[0]
        if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str)
        else str(err)
    )
    text = "; ".join(p.strip() for p in str(msg).splitlines() if p.strip()) or type(err).__name__
    cause = err.__cause__
    if cause is not None and str(cause).strip() and str(cause).strip() not in str(msg):
        text += f": {one_line(cause)}"
    return text


@contextmanager
def exit_on_user_error(extra: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn :data:`USER_ERRORS`, Hydra's and OmegaConf's errors (and ``extra``) raised inside the block into one
    ``error: ...`` line on stderr and exit status 2."""
    try:
        yield
    except (*USER_ERRORS, *_config_errors(), *extra) as err:
        if os.environ.get("RESRL_TRACEBACK"):
            raise
        print(f"error: {one_line(err)}", file=sys.stderr)
        sys.exit(USER_ERROR_STATUS)


# ------------------------------------------------------------------------------------------------ schema helpers
def _fields_of(schema: Any) -> list[str]:
    if isinstance(schema, type) and dataclasses.is_dataclass(schema):
        return [f.name for f in dataclasses.fields(schema) if f.name != "defaults"]
    return []


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else tp), True
    return tp, False


def schema_type(schema: Any, dotted: str) -> Any:
    """The annotation of ``dotted`` inside the dataclass ``schema`` (Optional stripped), or None when unknown."""
    tp: Any = schema
    for part in dotted.split("."):
        if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
            return None
        hints = typing.get_type_hints(tp)
        if part not in hints:
            return None
        tp, _ = _unwrap_optional(hints[part])
    return tp


def _is_list_type(tp: Any) -> bool:
    return tp is list or typing.get_origin(tp) in (list, tuple, Sequence)


# ------------------------------------------------------------------------------------------------ overrides
def group_options(config_dir: Path, group: str) -> list[str]:
    """Names of the YAML configs of ``group`` (a folder of ``config_dir``)."""
    return sorted(p.stem for p in (Path(config_dir) / group).glob("*.yaml"))


def _compose(config_dir: Path, config_name: str, overrides: list[str]):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        return compose(config_name=config_name, overrides=overrides)


def check_overrides(
    config_dir: str | os.PathLike,
    config_name: str,
    overrides: Sequence[str],
    *,
    schema: Any = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    passthrough: Sequence[str] = (),
    multirun: bool = False,
) -> list[str]:
    """Check Hydra ``overrides`` against the config ``config_name`` of ``config_dir`` before Hydra applies them;
    return them normalised (a bare value, or ``a,b``, for a list field becomes a list). Raises :class:`UsageError`
    with one line for an unknown key (valid keys and the nearest one named), a config group option that does not
    exist (``groups`` may restrict a group's valid options) or an unparsable override. ``schema``: the dataclass
    the config is validated against (unknown keys with ``+`` are refused where it defines the fields).
    ``passthrough``: keys that are not config keys (checked by the caller). ``multirun``: sweeps are allowed
    (checked with their first value)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import DictConfig, ListConfig, OmegaConf

    config_dir = Path(config_dir)
    groups = dict(groups or {})
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:
        raise UsageError(describe_config_error(err) or str(err)) from None
    fields = set(_fields_of(schema))

    def is_group(
        key: str,
    ) -> bool:  # a config group folder (that the schema has as a field, when there is one)
        return "." not in key and (
            key in groups or ((config_dir / key).is_dir() and (not fields or key in fields))
        )

    group_ovs: list[str] = []
    for o in parsed:
        key = o.key_or_group
        if key.startswith("hydra") or key in passthrough or o.is_delete():
            continue
        if is_group(key):
            valid = list(groups.get(key) or group_options(config_dir, key))
            values = (
                [str(v) for v in o.sweep_string_iterator()]
                if o.is_sweep_override()
                else [o.get_value_element_as_str()]
            )
            for v in values:
                if v not in valid:
                    guess = nearest(v, valid)
                    hint = f" (did you mean '{guess}'?)" if guess else ""
                    raise UsageError(f"{key}='{v}' is not one of: {', '.join(valid)}{hint}")
            group_ovs.append(f"{o.get_key_element()}={values[0]}")
    try:
        base = _compose(config_dir, config_name, group_ovs)
    except HydraException as err:
        raise UsageError(describe_config_error(err) or str(err)) from None
    out: list[str] = []
    for o in parsed:
        key = o.key_or_group
        line = o.input_line
        if key.startswith("hydra") or key in passthrough or o.is_delete() or is_group(key):
            out.append(line)
            continue
        parent_key, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(base, parent_key) if parent_key else base
        exists = isinstance(parent, DictConfig) and leaf in parent
        if not exists:
            structured = schema is not None and (
                not parent_key or dataclasses.is_dataclass(schema_type(schema, parent_key))
            )
            if o.is_add() or o.is_force_add():
                if structured or not isinstance(parent, DictConfig | None):
                    valid = _valid_keys(base, parent_key, schema)
                    raise UsageError(unknown_key_message(key, valid))
                out.append(line)
                continue
            raise UsageError(unknown_key_message(key, _valid_keys(base, parent_key, schema)))
        node = parent._get_node(leaf) if isinstance(parent, DictConfig) else None
        is_list = isinstance(node, ListConfig) or (
            schema is not None and _is_list_type(schema_type(schema, key))
        )
        if is_list and not o.is_delete():
            if (
                o.is_sweep_override()
                and not multirun
                and o.value_type is not None
                and o.value_type.name == "SIMPLE_CHOICE_SWEEP"
            ):
                items = [str(v) for v in o.sweep_string_iterator()]
                out.append(f"{o.get_key_element()}=[{','.join(items)}]")
                continue
            value = o.value()
            if not o.is_sweep_override() and value is not None and not isinstance(value, (list, dict)):
                out.append(f"{o.get_key_element()}=[{o.get_value_element_as_str()}]")
                continue
        if o.is_sweep_override() and not multirun:
            value = line.partition("=")[2]
            raise UsageError(
                f"{key}={value}: a sweep needs -m (multirun); for a list write {key}=[...], for a "
                f"string with a comma quote it ({key}='...')"
            )
        out.append(line)
    return out


def _valid_keys(base: Any, parent_key: str, schema: Any) -> list[str]:
    from omegaconf import DictConfig, OmegaConf

    node = OmegaConf.select(base, parent_key) if parent_key else base
    keys = [str(k) for k in node.keys()] if isinstance(node, DictConfig) else []
    tp = schema_type(schema, parent_key) if (schema is not None and parent_key) else schema
    for f in _fields_of(tp):
        if f not in keys:
            keys.append(f)
    keys = [k for k in keys if k not in ("hydra", "defaults")]
    prefix = f"{parent_key}." if parent_key else ""
    return [f"{prefix}{k}" for k in keys]


def first_values(overrides: Sequence[str]) -> list[str]:
    """``-m`` sweeps reduced to their first value (what :func:`check_overrides` composes to check a multirun)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    out = []
    for o in OverridesParser.create().parse_overrides(list(overrides)):
        if o.is_sweep_override():
            out.append(f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}")
        else:
            out.append(o.input_line)
    return out


def hydra_cli(
    config_dir: str | os.PathLike,
    config_name: str,
    *,
    schema: Any = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    passthrough: Sequence[str] = (),
    help_text: str | Callable[[], str] | None = None,
    presets: Sequence[str] | None = None,
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Decorate a ``@hydra.main`` entry point (put it above ``@hydra.main``): ``sys.argv``'s overrides are checked
    and normalised by :func:`check_overrides` first, so a bad one ends in one ``error: ...`` line and exit status 2
    (instead of Hydra's multi-line report and status 1); then Hydra runs as usual (``--config-name``, ``-m``,
    ``--cfg`` keep working). ``help_text``: printed for ``-h``/``--help`` instead of Hydra's page. ``presets``: the
    valid ``--config-name`` values (default: every YAML file of ``config_dir``)."""

    def wrap(hydra_main: Callable[[], Any]) -> Callable[[], Any]:
        @functools.wraps(hydra_main)
        def main() -> Any:
            argv = list(sys.argv[1:])
            if help_text is not None and any(a in ("-h", "--help") for a in argv):
                print(help_text() if callable(help_text) else help_text)
                return None
            from hydra._internal.utils import get_args_parser

            parser = get_args_parser()

            def fail(message: str) -> None:
                raise UsageError(message)

            parser.error = fail  # type: ignore[method-assign]
            with exit_on_user_error():
                ns = parser.parse_args(argv)
                if (
                    ns.help
                    or ns.hydra_help
                    or ns.info
                    or ns.shell_completion
                    or ns.config_path
                    or ns.config_dir
                    or ns.experimental_rerun
                ):
                    return hydra_main()
                valid = (
                    list(presets)
                    if presets is not None
                    else sorted(p.stem for p in Path(config_dir).glob("*.yaml"))
                )
                if ns.config_name and ns.config_name not in valid:
                    raise UsageError(
                        f"--config-name {ns.config_name}: no such config; valid: {', '.join(valid)}"
                    )
                checked = check_overrides(
                    config_dir,
                    ns.config_name or config_name,
                    ns.overrides,
                    schema=schema,
                    groups=groups,
                    passthrough=passthrough,
                    multirun=ns.multirun,
                )
            rest, i = [], 0
            for a in argv:
                if i < len(ns.overrides) and a == ns.overrides[i]:
                    rest.append(checked[i])
                    i += 1
                else:
                    rest.append(a)
            sys.argv[1:] = rest
            from hydra.core.global_hydra import GlobalHydra

            GlobalHydra.instance().clear()
            return hydra_main()

        return main

    return wrap
