"""The wire protocol between the evaluator (parent) and the sandbox (supervisor, worker): typed messages, frames.

Shared by both sides: the parent imports it as ``evaluators.code.sandbox.child.protocol``, the supervisor as a
module of its own package. Standard library only.

Channels and what travels on them::

    parent -> supervisor, stdin     one ``Job`` frame; then, after each ``UnitResult`` when more units follow, one
                                    control byte: ``CONTINUE`` or ``STOP``.
    supervisor -> parent, stdout    frames: ``Ready`` (set-up done), ``WorkerStarted`` per worker (fallback mode: the
                                    parent kills that session afterwards), one ``UnitResult`` per unit run, or
                                    ``Error`` (set-up failed).
    worker -> supervisor, fd 3      status lines (``parse_status_line``): ``P<i>`` call ``i`` started, ``D`` it
                                    returned, ``R<json>`` the harness's ``Record``, which carries the worker's nonce.

A frame is one JSON object on one line, ``{"type": <tag>, <field>: <value>, ...}``: ``encode_frame`` writes one,
``decode_frame`` reads one, checks every field against the message's annotations and raises ``ProtocolError`` for
anything else. Sequences travel as JSON lists and come back as tuples; ``bytes`` travel as base64 text.
"""

import base64
import binascii
import json
import types
import typing
from typing import NamedTuple

WORKDIR_IN_NS = "/sandbox"  # the work directory of namespace mode, inside the sandbox's own root
CONTINUE, STOP = b"c", b"s"  # control bytes, parent -> supervisor, after a unit result
CALL_STARTED, CALL_DONE, RECORD = "P", "D", "R"  # status-line prefixes, worker -> supervisor
UNIT_KINDS = ("tests", "stdio", "calls")


class ProtocolError(ValueError):
    """A frame or status line that is not a well-formed message of this protocol."""


# ---------------------------------------------------------------------------------------------- parent -> child
class Limits(NamedTuple):
    """Per-unit limits: the worker's rlimits, the supervisor's clocks and caps, the namespace root's size."""

    memory_mb: int
    cpu_s: float
    wall_s: float
    fsize_mb: int
    nproc: int
    nofile: int
    tmpfs_mb: int
    stdout_cap: int  # bytes of stdout per unit; more is a failure
    record_cap: int  # bytes of status channel (the harness's record) per unit


class Unit(NamedTuple):
    """One test unit, run in a fresh worker. ``kind`` is one of ``UNIT_KINDS``."""

    kind: str
    program: str
    tests: str = ""  # tests: assert-style test code
    stdin: str = ""  # stdio: the program's standard input
    entry: str = ""  # calls: ``function`` or ``Class.method``
    inputs: tuple[object, ...] = ()  # calls: per call, the codec's encoding (JSON data) of the argument tuple
    call_limits: tuple[float, ...] = ()  # calls: wall-clock seconds per call (empty: the unit's limit only)


class Job(NamedTuple):
    """Everything the supervisor needs: isolation settings, limits and the units to run in order."""

    mode: str  # "namespace" | "fallback"
    uid: int | None  # the fresh uid the workers switch to, or None to keep the supervisor's
    workdir: str
    tmpdir: str
    guard: bool  # install the Python guard (audit hook)
    block_processes: bool  # the guard refuses fork/exec/kill
    hidden: tuple[str, ...]  # fallback mode: paths the guard refuses to read
    limits: Limits
    units: tuple[Unit, ...]


# ---------------------------------------------------------------------------------------------- child -> parent
class Ready(NamedTuple):
    """Set-up succeeded (namespace root built, modules pre-imported); units follow."""

    mode: str
    pid: int  # the supervisor's pid (1 in namespace mode)


class WorkerStarted(NamedTuple):
    """A worker was forked (fallback mode only): the parent kills its session when the sandbox ends."""

    pid: int


class UnitResult(NamedTuple):
    """The supervisor's account of one unit. ``status`` is a verdict, or ``completed`` (stdio, calls: the program
    ran to the end; the parent compares its output)."""

    index: int
    status: str
    detail: str = ""
    exit: str = ""  # "code N" or "signal NAME"
    wall_s: float = 0.0
    cpu_s: float = 0.0
    stderr_tail: str = ""
    bad_records: int = 0  # status lines that were forged or malformed
    line: int | None = None  # tests: the line of the assert that failed (0: before the first assert)
    asserts: int = 0  # tests: asserts reached
    call_index: int | None = None  # calls: the call that failed or timed out
    outputs: tuple[object, ...] = ()  # calls: the codec's encoding (JSON data) of each return value
    times: tuple[float, ...] = ()  # calls: seconds per call
    stdout: bytes | None = None  # stdio: the captured stdout (at most the cap + 1 byte)


class Error(NamedTuple):
    """The sandbox could not be set up (the program never ran)."""

    detail: str


# ---------------------------------------------------------------------------------------------- worker -> supervisor
class CallStarted(NamedTuple):
    """Call ``index`` of a ``calls`` unit started: its own wall-clock limit runs from now."""

    index: int


class CallDone(NamedTuple):
    """The running call returned: its limit no longer applies."""


class Record(NamedTuple):
    """The harness's one result record; the supervisor trusts it only with the worker's nonce."""

    nonce: str
    status: str
    detail: str = ""
    line: int | None = None
    asserts: int = 0
    call_index: int | None = None
    outputs: tuple[object, ...] = ()
    times: tuple[float, ...] = ()


Message = Job | Ready | WorkerStarted | UnitResult | Error
_TAGS: dict[str, type] = {
    "job": Job,
    "ready": Ready,
    "worker": WorkerStarted,
    "unit": UnitResult,
    "error": Error,
}
_TAG_OF = {cls: tag for tag, cls in _TAGS.items()}


# ---------------------------------------------------------------------------------------------- frames
def encode_frame(msg: Message) -> bytes:
    """One frame: the message as a JSON object with its ``type`` tag, on one line."""
    tag = _TAG_OF.get(type(msg))
    if tag is None:
        raise TypeError(f"not a frame message: {type(msg).__name__}")
    return (json.dumps({"type": tag, **_to_json(msg)}, separators=(",", ":")) + "\n").encode()


def decode_frame(line: bytes | str, expect: type | None = None) -> Message:
    """The message of one frame (with or without its newline); ``expect`` restricts the message type."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"malformed frame, not JSON ({exc}): {_excerpt(line)}") from None
    if not isinstance(obj, dict) or obj.get("type") not in _TAGS:
        raise ProtocolError(f"malformed frame, not an object with a known type: {_excerpt(line)}")
    cls = _TAGS[obj.pop("type")]
    if expect is not None and cls is not expect:
        raise ProtocolError(f"expected a {expect.__name__} frame, got {cls.__name__}")
    return _from_json(cls, obj, cls.__name__)


# ---------------------------------------------------------------------------------------------- status lines
def status_line(msg: CallStarted | CallDone | Record) -> bytes:
    """The reference encoding of a status message (the harness writes the same bytes with its own bound code)."""
    if type(msg) is CallStarted:
        return f"{CALL_STARTED}{msg.index}\n".encode()
    if type(msg) is CallDone:
        return f"{CALL_DONE}\n".encode()
    if type(msg) is Record:
        return ("\n" + RECORD + json.dumps(_to_json(msg), separators=(",", ":")) + "\n").encode()
    raise TypeError(f"not a status message: {type(msg).__name__}")


def parse_status_line(line: bytes) -> CallStarted | CallDone | Record | None:
    """The message of one status line (without its newline): None for a line that is none (the empty line the
    harness writes before a record, so that a record always starts a line); ProtocolError if malformed."""
    if line.startswith(CALL_STARTED.encode()):
        try:
            return CallStarted(int(line[1:]))
        except ValueError:
            raise ProtocolError(f"malformed call-started line: {_excerpt(line)}") from None
    if line == CALL_DONE.encode():
        return CallDone()
    if line.startswith(RECORD.encode()):
        try:
            obj = json.loads(line[1:])
        except ValueError as exc:
            raise ProtocolError(f"malformed record, not JSON ({exc}): {_excerpt(line)}") from None
        return _from_json(Record, obj, "Record")
    return None


# ---------------------------------------------------------------------------------------------- conversion
def _to_json(value):
    """Messages as dicts, tuples as lists, bytes as base64 text; everything else (JSON data) as it is."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: _to_json(getattr(value, name)) for name in value._fields}
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _from_json(cls: type, obj, where: str):
    """An instance of the message class ``cls`` from a JSON object, every field checked."""
    if type(obj) is not dict:
        raise ProtocolError(f"{where}: expected an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(cls._fields))
    if unknown:
        raise ProtocolError(f"{where}: unknown field(s) {unknown[:5]}")
    missing = [f for f in cls._fields if f not in obj and f not in cls._field_defaults]
    if missing:
        raise ProtocolError(f"{where}: missing field(s) {missing}")
    return cls(**{name: _convert(cls.__annotations__[name], v, f"{where}.{name}") for name, v in obj.items()})


def _convert(ann, value, where: str):
    """``value`` (decoded JSON) as the annotated type ``ann``, or ProtocolError."""
    if isinstance(ann, type) and issubclass(ann, tuple) and hasattr(ann, "_fields"):
        return _from_json(ann, value, where)
    origin = typing.get_origin(ann)
    if origin is tuple:  # tuple[X, ...]
        if type(value) is not list:
            raise ProtocolError(f"{where}: expected a list, got {type(value).__name__}")
        item = typing.get_args(ann)[0]
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is types.UnionType:  # X | None: None, or an X (and X's own error message)
        options = [a for a in typing.get_args(ann) if a is not types.NoneType]
        if value is None and len(options) < len(typing.get_args(ann)):
            return None
        if len(options) == 1:
            return _convert(options[0], value, where)
        for option in options:
            try:
                return _convert(option, value, where)
            except ProtocolError:
                continue
        raise ProtocolError(f"{where}: expected {ann}, got {type(value).__name__}")
    if ann is object or type(value) is ann:
        return value
    if ann is float and type(value) is int:
        return float(value)
    if ann is bytes and type(value) is str:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(f"{where}: not base64 text") from None
    raise ProtocolError(f"{where}: expected {getattr(ann, '__name__', ann)}, got {type(value).__name__}")


def _excerpt(line: bytes | str) -> str:
    return repr(line[:120]) + (f" ... ({len(line)} long)" if len(line) > 120 else "")
