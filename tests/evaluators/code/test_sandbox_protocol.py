"""The wire between the evaluator and the sandbox: every protocol message and every codec value survives a round
trip unchanged, malformed frames and status lines raise a clear ``ProtocolError``, and the harness's hand-built
status lines are exactly what the protocol parses."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluators.code.sandbox.child import codec
from evaluators.code.sandbox.child.protocol import (
    CallDone,
    CallStarted,
    Error,
    Job,
    Limits,
    ProtocolError,
    Ready,
    Record,
    Unit,
    UnitResult,
    WorkerStarted,
    decode_frame,
    encode_frame,
    parse_status_line,
    status_line,
)

REPO = Path(__file__).resolve().parents[3]
LIMITS = Limits(
    memory_mb=256,
    cpu_s=2.5,
    wall_s=3.0,
    fsize_mb=16,
    nproc=64,
    nofile=64,
    tmpfs_mb=16,
    stdout_cap=1 << 20,
    record_cap=1 << 23,
)
ENCODED_ARGS = json.loads(codec.encode_value((1, [2.5, "é"], {"k": (None,)})))
UNITS = (
    Unit("tests", "def f(x):\n    return x\n", tests="assert f(1) == 1\n"),
    Unit("stdio", "print(input())\n", stdin="hello\n\u2028\n"),
    Unit(
        "calls",
        "def f(*a):\n    return a\n",
        entry="C.m",
        inputs=(ENCODED_ARGS, {"$tuple": []}),
        call_limits=(1.0, 2.5),
    ),
)
FRAME_MESSAGES = [
    Job("namespace", 3_000_123, "/sandbox", "/tmp", True, False, (), LIMITS, UNITS),
    Job("fallback", None, "/tmp/w", "/tmp/w", False, True, ("/work", "/root"), LIMITS, ()),
    Ready("fallback", 4242),
    WorkerStarted(4243),
    UnitResult(0, "passed", exit="code 0", wall_s=0.1, cpu_s=0.05, line=None, asserts=3),
    UnitResult(
        1, "failed", "line 2: assert f(3) == 9", "code 0", 0.2, 0.1, "Trace\u2028back", 2, line=2, asserts=2
    ),
    UnitResult(2, "completed", stdout=b"\x00\xff out\n", stderr_tail="é"),
    UnitResult(
        3,
        "timeout",
        "wall-clock limit of 2 s exceeded",
        "signal SIGKILL",
        call_index=1,
        outputs=(ENCODED_ARGS, {"$digest": "ab" * 32}),
        times=(1e-06, 0.5),
    ),
    Error("sandbox set-up failed in namespace mode: OSError(1, 'mount')"),
]


@pytest.mark.parametrize("msg", FRAME_MESSAGES, ids=lambda m: type(m).__name__)
def test_every_frame_message_round_trips(msg):
    frame = encode_frame(msg)
    assert frame.endswith(b"\n") and frame.count(b"\n") == 1  # one message, one line
    out = decode_frame(frame)
    assert type(out) is type(msg) and out == msg
    assert decode_frame(frame.rstrip(b"\n").decode()) == msg  # str input, no newline
    if type(msg) is Job:  # nested messages keep their types
        assert type(out.limits) is Limits and all(type(u) is Unit for u in out.units)


def test_frames_take_the_type_they_announce():
    assert decode_frame(encode_frame(Ready("fallback", 1)), expect=Ready) == Ready("fallback", 1)
    with pytest.raises(ProtocolError, match="expected a Job frame, got Ready"):
        decode_frame(encode_frame(Ready("fallback", 1)), expect=Job)
    with pytest.raises(TypeError, match="not a frame message"):
        encode_frame(CallDone())


def _job_dict() -> dict:
    return json.loads(encode_frame(FRAME_MESSAGES[0]))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b'{"type":"ready","mode":"x"', r"malformed frame, not JSON"),
        (b"", r"malformed frame, not JSON"),
        (b'["ready"]', r"not an object with a known type"),
        (b'{"type":"shutdown"}', r"not an object with a known type"),
        (b'{"mode":"x","pid":1}', r"not an object with a known type"),
        (b'{"type":"ready","mode":"fallback"}', r"Ready: missing field\(s\) \['pid'\]"),
        (b'{"type":"ready","mode":"fallback","pid":1,"extra":2}', r"Ready: unknown field\(s\) \['extra'\]"),
        (b'{"type":"ready","mode":"fallback","pid":"1"}', r"Ready\.pid: expected int, got str"),
        (b'{"type":"worker","pid":true}', r"WorkerStarted\.pid: expected int, got bool"),
        (b'{"type":"worker","pid":1.5}', r"WorkerStarted\.pid: expected int, got float"),
        (b'{"type":"unit","index":0,"status":"completed","stdout":"***"}', r"UnitResult\.stdout: not base64"),
        (
            b'{"type":"unit","index":0,"status":"failed","line":"2"}',
            r"UnitResult\.line: expected int, got str",
        ),
        (
            b'{"type":"unit","index":0,"status":"failed","times":[0.1,"x"]}',
            r"UnitResult\.times\[1\]: expected float",
        ),
        (
            b'{"type":"unit","index":0,"status":"failed","outputs":{}}',
            r"UnitResult\.outputs: expected a list",
        ),
        (b'{"type":"error","detail":null}', r"Error\.detail: expected str, got NoneType"),
    ],
)
def test_malformed_frames_raise_a_clear_protocol_error(frame, message):
    with pytest.raises(ProtocolError, match=message):
        decode_frame(frame)


def test_malformed_nested_messages_name_the_field():
    bad_units = _job_dict() | {"units": {"kind": "tests"}}
    with pytest.raises(ProtocolError, match=r"Job\.units: expected a list"):
        decode_frame(json.dumps(bad_units))
    bad_unit = _job_dict()
    bad_unit["units"][1]["stdin"] = 5
    with pytest.raises(ProtocolError, match=r"Job\.units\[1\]\.stdin: expected str, got int"):
        decode_frame(json.dumps(bad_unit))
    bad_limits = _job_dict()
    del bad_limits["limits"]["wall_s"]
    with pytest.raises(ProtocolError, match=r"Job\.limits: missing field\(s\) \['wall_s'\]"):
        decode_frame(json.dumps(bad_limits))
    assert issubclass(ProtocolError, ValueError)


# ---------------------------------------------------------------------------------------------- status lines
STATUS_MESSAGES = [
    CallStarted(0),
    CallStarted(12345),
    CallDone(),
    Record("ab12", "passed", asserts=3),
    Record("ab12", "failed", "AssertionError", line=2, asserts=2),
    Record("ab12", "completed", outputs=(ENCODED_ARGS, 1, "x"), times=(1e-06, 2.0)),
    Record("ab12", "runtime_error", "ValueError: 1", call_index=1, outputs=(), times=()),
]


@pytest.mark.parametrize("msg", STATUS_MESSAGES, ids=lambda m: type(m).__name__)
def test_every_status_message_round_trips(msg):
    lines = status_line(msg).split(b"\n")
    assert lines[-1] == b""  # newline-terminated
    parsed = [parse_status_line(line) for line in lines[:-1]]
    assert [p for p in parsed if p is not None] == [msg]
    assert type([p for p in parsed if p is not None][0]) is type(msg)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"Pnot-a-number", r"malformed call-started line"),
        (b'R{"nonce":"ab"', r"malformed record, not JSON"),
        (b"R[1, 2]", r"Record: expected an object, got list"),
        (b'R{"status":"passed"}', r"Record: missing field\(s\) \['nonce'\]"),
        (b'R{"nonce":"ab","status":"passed","line":"2"}', r"Record\.line: expected int, got str"),
        (b'R{"nonce":"ab","status":"passed","admin":true}', r"Record: unknown field\(s\) \['admin'\]"),
    ],
)
def test_malformed_status_lines_raise_a_clear_protocol_error(line, message):
    with pytest.raises(ProtocolError, match=message):
        parse_status_line(line)


def test_other_status_lines_are_no_message():
    for line in (b"", b"hello", b"DONE", b"passed"):
        assert parse_status_line(line) is None


def test_the_harness_writes_what_the_protocol_parses():
    """The harness builds its status lines by hand (with builtins bound at import); run it in a subprocess (it ends
    the process) with fd 3 on a pipe and parse what it wrote."""
    script = (
        "import os, sys\n"
        "os.dup2(int(sys.argv[1]), 3)\n"
        "from evaluators.code.sandbox.child.asserts import compile_tests, make_helper_namespace\n"
        "from evaluators.code.sandbox.child.harness import HARNESS\n"
        "ns = {'__builtins__': __builtins__}\n"
        "if sys.argv[2] == 'calls':\n"
        "    HARNESS['calls']('def f(x):\\n    return [x, (x,)]\\ndef g(x):\\n    return 1 // x\\n', sys.argv[3],\n"
        "                     [(1,), (0,)], 'n0nce', ns)\n"
        "else:\n"
        "    HARNESS['tests']('def f(x):\\n    return x\\n', compile_tests('assert f(1) == 1\\nassert f(2) == 3\\n'),\n"
        "                     'n0nce', ns, make_helper_namespace(), lambda: None)\n"
    )

    def run(*args: str) -> list:
        r, w = os.pipe()
        try:
            subprocess.run(
                [sys.executable, "-c", script, str(w), *args], pass_fds=(w,), cwd=REPO, check=True, timeout=60
            )
        finally:
            os.close(w)
        with os.fdopen(r, "rb") as f:
            data = f.read()
        return [m for m in map(parse_status_line, data.split(b"\n")) if m is not None]

    outputs = (json.loads(codec.encode_value([1, (1,)])), json.loads(codec.encode_value([0, (0,)])))
    *calls, rec = run("calls", "f")
    assert calls == [CallStarted(0), CallDone(), CallStarted(1), CallDone()]
    assert rec == Record("n0nce", "completed", outputs=outputs, times=rec.times) and len(rec.times) == 2
    *calls, rec = run("calls", "g")
    assert calls == [CallStarted(0), CallDone(), CallStarted(1)]
    detail = "ZeroDivisionError: integer division or modulo by zero"
    assert rec == Record("n0nce", "runtime_error", detail, call_index=1, outputs=(1,), times=rec.times)
    assert run("tests") == [Record("n0nce", "failed", "AssertionError", line=2, asserts=2)]


# ---------------------------------------------------------------------------------------------- value codec
def _roundtrip(value):
    return codec.decode_value(json.loads(codec.encode_value(value)))


def _same(a, b) -> bool:
    """Equal, and of the same exact types all the way down (True is not 1, -0.0 is not 0.0, a tuple not a list)."""
    if type(a) is not type(b):
        return False
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    if type(a) is dict:
        keys = {k: next(k2 for k2 in b if k2 == k) for k in a} if a == b else None
        return keys is not None and all(_same(k, k2) and _same(a[k], b[k2]) for k, k2 in keys.items())
    if type(a) in (set, frozenset):
        return a == b and all(any(_same(x, y) for y in b) for x in a)
    if type(a) is float and a == b:
        return math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


CODEC_VALUES = [
    "",
    "é\u2028\x00",
    True,
    False,
    None,
    0,
    -7,
    10**700,
    -(10**700),
    0.1,
    -0.0,
    math.inf,
    -math.inf,
    1 + 2j,
    complex(math.inf, -1),
    b"",
    b"\x00\xff",
    [],
    (),
    set(),
    frozenset(),
    {},
    [1, [2, [3]]],
    (1, (2,)),
    {3, "x"},
    frozenset({(1, 2)}),
    {"a": [1], 5: (6,), (7, 8): {9}, None: b"z"},
    [{"k": (1.5, {2: frozenset({3})})}],
]


@pytest.mark.parametrize("value", CODEC_VALUES, ids=repr)
def test_every_codec_type_round_trips_with_its_type(value):
    assert _same(_roundtrip(value), value)


def test_codec_nan_and_digest_round_trip():
    assert math.isnan(_roundtrip(math.nan))
    big = codec.digest_if_large(codec.encode_value("x" * (codec.DIGEST_OVER + 1)))
    assert codec.decode_value(json.loads(big)) == codec.Digest(json.loads(big)["$digest"])


@pytest.mark.parametrize(
    "obj",
    [
        {"$tuple": [1], "$set": [2]},
        {"$nope": 1},
        {"plain": "dict"},
        {"$int": 5},
        {"$int": "xyz"},
        {"$bytes": "***"},
        {"$complex": [1]},
        {"$dict": [1, 2]},
        {"$float": "pi"},
    ],
    ids=repr,
)
def test_malformed_encoded_values_raise_value_error(obj):
    with pytest.raises(ValueError, match="malformed|unknown tag|invalid literal|could not convert"):
        codec.decode_value(obj)
