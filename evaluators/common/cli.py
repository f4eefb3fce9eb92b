"""Shared pieces of the evaluators' ``key=value`` command lines (math, code, agents, BFCL).

Every evaluator takes the same names for the same things: ``model=<name>`` (a config of ``experiments/model/``),
``checkpoint=<folder>`` (a ``save_pretrained`` folder, e.g. a trained run's ``final_model/``; it wins over
``model``), ``benchmarks=[...]`` (math, code; a bare ``benchmarks=math500`` is a one-element list), ``run_name=``,
``results_dir=``, ``overwrite=``. Old spellings stay valid: ``checkpoint=<model name>`` means ``model=<name>``,
``model=<folder>`` means ``checkpoint=<folder>``, and the code evaluator's ``benchmark=<name>`` means
``benchmarks=[<name>]``.

Overrides are checked before Hydra sees them (:func:`resrl.cli_errors.check_overrides`): a bad key, value, group
option or file ends in one ``error: ...`` line and exit status 2. ``--help`` lists every field with its default and
the valid values of choice fields (:func:`render_help`).
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import logging
import re
import sys
import tokenize
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from evaluators.common.config import FORMATS
from evaluators.common.policy import DEVICES, ENGINES
from resrl.cli_errors import UsageError, check_overrides, exit_on_user_error
from resrl.paths import REPO_ROOT

T = TypeVar("T")

#: Plain string fields whose name is also a Hydra config group folder under ``experiments/`` (``method/``):
#: ``method=resrl`` is a label here, not a choice of that group, so it is set after composing.
LABEL_FIELDS: tuple[str, ...] = ("method",)

EXPERIMENTS_DIR = REPO_ROOT / "experiments"  # the evaluators' Hydra configs (groups model/, benchmark/, ...)

__all__ = ["DEVICES", "ENGINES", "FORMATS", "EvaluatorCLI", "compose_config", "model_names", "render_help"]


def model_names() -> list[str]:
    from resrl.models.spec import available_models

    return available_models()


def _looks_like_path(value: str) -> bool:
    return "/" in value or value.startswith((".", "~"))


def normalize_model_overrides(overrides: Sequence[str]) -> list[str]:
    """``checkpoint=<model name>`` -> ``model=<name>``; ``model=<existing folder>`` -> ``checkpoint=<folder>``."""
    out = []
    names = None
    for o in overrides:
        key, sep, value = o.partition("=")
        bare = key.lstrip("+")
        if (
            sep
            and bare == "checkpoint"
            and value
            and not _looks_like_path(value)
            and not Path(value).is_dir()
        ):
            names = names if names is not None else model_names()
            if value in names:
                out.append(f"model={value}")
                continue
        if (
            sep
            and bare == "model"
            and value
            and _looks_like_path(value)
            and Path(value).expanduser().is_dir()
        ):
            out.append(f"checkpoint={value}")
            continue
        out.append(o)
    return out


def parse_list_value(value: str) -> list[str]:
    """``[a, b]``, ``a,b`` or ``a`` -> ``["a", "b"]`` / ``["a"]``."""
    v = value.strip()
    if v.startswith("[") and v.endswith("]"):
        v = v[1:-1]
    return [x.strip().strip("'\"") for x in v.split(",") if x.strip()]


def pop_list_arg(overrides: Sequence[str], names: Sequence[str]) -> tuple[list[str] | None, list[str]]:
    """Take the overrides ``<name>=<list or value>`` (any of ``names``, no dot) out of ``overrides``; returns the
    values (None when absent; the last one wins) and the other overrides."""
    values, rest = None, []
    for o in overrides:
        key, sep, value = o.partition("=")
        if sep and key.lstrip("+") in names:
            values = parse_list_value(value)
            if not values:
                raise UsageError(f"{key.lstrip('+')} must name at least one value")
            continue
        rest.append(o)
    return values, rest


def compose_config(
    config_dir: Path,
    config_name: str,
    schema: type[T],
    overrides: list[str],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> T:
    """Compose ``config_name`` from ``config_dir`` with Hydra ``overrides`` and validate it against the
    dataclass ``schema`` (unknown keys and bad values raise one line naming the field; ``groups`` restricts the
    valid options of config groups)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    labels: dict[str, Any] = {}
    rest = []
    for o in overrides:
        key, sep, value = o.partition("=")
        if sep and key in LABEL_FIELDS:
            labels[key] = value
        else:
            rest.append(o)
    from_file = (config_dir / f"{config_name}.yaml").is_file()  # a preset file, typed by the schema
    if not from_file:
        ConfigStore.instance().store(name=config_name, node=schema)
    rest = check_overrides(config_dir, config_name, rest, schema=schema, groups=groups)
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        cfg = hydra_compose(config_name=config_name, overrides=rest)
    if from_file:
        cfg = OmegaConf.merge(OmegaConf.structured(schema), cfg)
    for key, value in labels.items():
        cfg[key] = value
    return OmegaConf.to_object(cfg)


# ------------------------------------------------------------------------------------------------ help
def _plain(text: str) -> str:
    """Docstring markup out: ``x`` -> x, :func:`x` -> x, `x` -> x."""
    text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)
    text = re.sub(r"``([^`]*)``", r"\1", text)
    return re.sub(r"`([^`]*)`", r"\1", text)


def field_comments(cls: type) -> dict[str, str]:
    """The trailing ``# comment`` of each field of the dataclass ``cls`` (or of the line after an open
    parenthesis), markup removed."""
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    out: dict[str, str] = {}
    lines = src.splitlines()
    for i, line in enumerate(lines, start=1):
        m = re.match(r"^    (\w+)\s*:\s*[^=]+(=.*)?$", line)
        if not m or line.strip().startswith(("def ", "@", "#", "return")):
            continue
        text = comments.get(i)
        j = i
        while text is None and j < len(lines) and lines[j - 1].rstrip().endswith(("(", "[", "{", ",")):
            j += 1
            text = comments.get(j)
        if text and "fmt:" not in text:
            out[m.group(1)] = _plain(text)
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_fmt(v) for v in value) + "]"
    if isinstance(value, str):
        text = value.replace("\n", "\\n")
        return (text if len(text) <= 40 else text[:37] + "...") if text else "''"
    return str(value)


def _defaults(
    config_dir: Path, config_name: str, schema: type | None
) -> tuple[dict[str, Any], dict[str, str]]:
    from hydra import compose, initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    if schema is not None and not (config_dir / f"{config_name}.yaml").is_file():
        ConfigStore.instance().store(name=config_name, node=schema)
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        cfg = compose(config_name=config_name, return_hydra_config=True)
    choices = {
        k: v
        for k, v in OmegaConf.to_container(cfg.hydra.runtime.choices).items()
        if not k.startswith("hydra/") and v is not None
    }
    values = OmegaConf.to_container(cfg, resolve=False)
    values.pop("hydra", None)
    GlobalHydra.instance().clear()
    return values, choices


def render_help(
    prog: str,
    summary: str,
    examples: Sequence[str],
    config_dir: Path,
    config_name: str,
    schema: type,
    choices: Mapping[str, Sequence[str] | Callable[[], Sequence[str]]] | None = None,
    *,
    extra: Sequence[tuple[str, str, str]] = (),
    hide: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> str:
    """Plain-text help: usage, summary, examples, then every field of ``schema`` (nested ones dotted) with its
    default (from the composed default config) and, for choice fields, the valid values. ``extra``: (name,
    default, description) rows for arguments that are not schema fields (e.g. ``benchmarks``)."""
    values, group_choice = _defaults(config_dir, config_name, schema)
    choices = dict(choices or {})
    rows: list[tuple[str, str, str]] = list(extra)

    def walk(cls: type, prefix: str, vals: Mapping[str, Any]) -> None:
        notes_of: dict[str, str] = {}
        for base in reversed(cls.__mro__):  # a family's config inherits the shared fields and their comments
            if dataclasses.is_dataclass(base):
                notes_of.update(field_comments(base))
        for f in dataclasses.fields(cls):
            name = prefix + f.name
            if f.name == "defaults":
                continue
            value = vals.get(f.name) if isinstance(vals, Mapping) else None
            sub = _field_type(cls, f.name)
            if name in group_choice and name not in hide:  # a config group: its chosen option
                rows.append((name, group_choice[name], notes_of.get(f.name, "")))
            if isinstance(value, Mapping) and dataclasses.is_dataclass(sub):
                walk(sub, name + ".", value)
            elif name not in group_choice and name not in hide and not isinstance(value, Mapping):
                rows.append((name, _fmt(value), notes_of.get(f.name, "")))

    walk(schema, "", values)
    width = max(len(r[0]) for r in rows) + 2
    dwidth = min(max(len(r[1]) for r in rows) + 2, 26)
    out = [f"usage: python -m {prog} [key=value ...]", "", _plain(summary).strip(), "", "examples:"]
    out += [f"  {e}" for e in examples]
    out += ["", "fields (name, default, meaning; valid values where the field is a choice):"]
    for name, default, desc in rows:
        valid = choices.get(name)
        if callable(valid):
            valid = valid()
        text = desc
        if valid:
            text = (text + "; " if text else "") + "valid: " + ", ".join(valid)
        if len(default) >= dwidth:
            out.append(f"  {name:<{width}}{default}".rstrip())
            if text:
                out.append(" " * (2 + width + dwidth) + text)
        else:
            out.append(f"  {name:<{width}}{default:<{dwidth}}{text}".rstrip())
    if notes:
        out += [""] + [_plain(n) for n in notes]
    return "\n".join(out)


def _field_type(cls: type, name: str) -> Any:
    import typing

    from resrl.cli_errors import _unwrap_optional

    tp = typing.get_type_hints(cls).get(name)
    return _unwrap_optional(tp)[0] if tp is not None else None


# ------------------------------------------------------------------------------------------------ entry points
class _CurrentStderr(logging.StreamHandler):
    """A log handler writing to whatever ``sys.stderr`` is now (not the stream of the first call)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging() -> None:
    """INFO logs of the run on stderr, ``LEVEL name: message`` (once per process)."""
    root = logging.getLogger()
    if not any(isinstance(h, _CurrentStderr) for h in root.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)


def wants_help(args: Sequence[str]) -> bool:
    return any(a in ("-h", "--help") for a in args)


def run_cli(
    args: Sequence[str] | None,
    *,
    help_text: Callable[[], str],
    compose: Callable[[list[str]], list[Any]],
    run_one: Callable[[Any], None],
    show: Callable[[Any], str],
) -> None:
    """The shared ``main``: ``--help``; ``--cfg`` (print the composed config(s) and exit); else compose (one
    config per benchmark or environment) and run each, every user error as one line and exit status 2."""
    args = list(sys.argv[1:] if args is None else args)
    if wants_help(args):
        print(help_text())
        return
    unknown = [a for a in args if a.startswith("-") and a != "--cfg"]
    with exit_on_user_error(extra=(KeyError,)):
        if unknown:
            raise UsageError(f"unknown option {unknown[0]!r}; valid: --help, --cfg, key=value overrides")
        confs = compose([a for a in args if a != "--cfg"])
    if "--cfg" in args:
        for conf in confs:
            print(show(conf))
        return
    setup_logging()
    for conf in confs:
        with exit_on_user_error():
            run_one(conf)


# ------------------------------------------------------------------------------------------------ one evaluator CLI
@dataclasses.dataclass(frozen=True)
class EvaluatorCLI:
    """One evaluator's command line, declared: ``python -m evaluators.<family> key=value ... [--cfg] [--help]``.

    ``config_name`` is composed from ``config_dir`` (a YAML file there, else the dataclass ``schema`` itself) and
    validated against ``schema``. ``presets``: the valid ``--config-name`` values (YAML files of ``config_dir``).
    ``repeat``: ``(field, list names, valid values, noun)``: a list argument such as ``benchmarks=[a,b]`` runs the
    evaluation once per value with ``<field>=<value>``. ``<prog>.run``'s ``run(cfg)`` evaluates;
    ``headline(cfg, out)``: the words after the run name in the terminal summary.
    """

    prog: str
    summary: str
    examples: Sequence[str]
    config_name: str
    schema: type
    headline: Callable[[Any, dict[str, Any]], str]
    config_dir: Path = EXPERIMENTS_DIR
    choices: Mapping[str, Sequence[str] | Callable[[], Sequence[str]]] = dataclasses.field(
        default_factory=dict
    )
    groups: Mapping[str, Sequence[str]] | None = None
    repeat: tuple[str, tuple[str, ...], Sequence[str], str] | None = None
    presets: Sequence[str] = ()
    extra: Sequence[tuple[str, str, str]] = ()
    hide: Sequence[str] = ()
    notes: Sequence[str] = ()

    # -- composing
    def compose(self, overrides: list[str], config_name: str | None = None) -> Any:
        """The validated config of ``overrides`` (Hydra syntax); one value of the ``repeat`` list at most."""
        confs = self.compose_all(overrides, config_name)
        if len(confs) != 1:
            raise UsageError(
                f"compose() takes one {self.repeat[0] if self.repeat else 'run'}; use compose_all"
            )
        return confs[0]

    def compose_all(self, overrides: list[str], config_name: str | None = None) -> list[Any]:
        """One validated config per value of the ``repeat`` list (every value checked before any is composed)."""
        name = config_name or self.config_name
        if self.presets and name not in self.presets:
            raise UsageError(f"--config-name {name}: no such config; valid: {', '.join(self.presets)}")
        overrides = normalize_model_overrides(overrides)
        if self.repeat is None:
            return [self._compose_one(name, overrides)]
        field_name, list_names, valid, noun = self.repeat
        values, rest = pop_list_arg(overrides, list_names)
        for v in values or []:
            if v not in valid:
                raise UsageError(f"unknown {noun} '{v}'; valid: {', '.join(valid)}")
        if values is None:
            return [self._compose_one(name, rest)]
        return [self._compose_one(name, [f"{field_name}={v}", *rest]) for v in dict.fromkeys(values)]

    def _compose_one(self, name: str, overrides: list[str]) -> Any:
        return compose_config(self.config_dir, name, self.schema, overrides, groups=self.groups)

    # -- help and entry point
    def all_choices(self) -> dict[str, Sequence[str] | Callable[[], Sequence[str]]]:
        """The valid values of choice fields: the shared ones (model, engine, device, format), then the family's."""
        return {"model": model_names, "engine": ENGINES, "device": DEVICES, "format": FORMATS, **self.choices}

    def help_text(self) -> str:
        notes = list(self.notes)
        if self.presets:
            notes.append(
                f"presets (--config-name NAME): {', '.join(self.presets)} (default {self.config_name})."
            )
        notes.append("--cfg prints the composed config and exits.")
        return render_help(
            self.prog,
            self.summary,
            self.examples,
            self.config_dir,
            self.config_name,
            self.schema,
            self.all_choices(),
            extra=self.extra,
            hide=self.hide,
            notes=notes,
        )

    def run_one(self, conf: Any) -> None:
        import importlib

        from evaluators.common.run import print_result

        out = importlib.import_module(f"{self.prog}.run").run(conf)
        print_result(out, self.headline(conf, out))

    def main(self, argv: Sequence[str] | None = None) -> None:
        """``--help``; ``--config-name NAME`` (a preset); ``--cfg`` (print the composed configs, exit); else run."""
        from omegaconf import OmegaConf

        args = list(sys.argv[1:] if argv is None else argv)
        config_name = None
        with exit_on_user_error():
            args, config_name = _pop_config_name(args)
        run_cli(
            args,
            help_text=self.help_text,
            compose=lambda overrides: self.compose_all(overrides, config_name),
            run_one=self.run_one,
            show=lambda conf: OmegaConf.to_yaml(OmegaConf.structured(conf)),
        )


def _pop_config_name(args: list[str]) -> tuple[list[str], str | None]:
    """``--config-name NAME`` / ``--config-name=NAME`` (also ``-cn``) out of ``args``."""
    rest, name, i = [], None, 0
    while i < len(args):
        a = args[i]
        if a in ("--config-name", "-cn"):
            if i + 1 >= len(args):
                raise UsageError(f"{a} needs a config name")
            name, i = args[i + 1], i + 2
            continue
        if a.startswith("--config-name="):
            name = a.partition("=")[2]
        elif a == "job" and rest and rest[-1] == "--cfg":  # Hydra's spelling "--cfg job"
            pass
        else:
            rest.append(a)
        i += 1
    return rest, name
