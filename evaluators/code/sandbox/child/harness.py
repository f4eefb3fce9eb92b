"""The harness: runs the untrusted program inside the worker and writes the one record the verdict trusts.

``HARNESS`` maps a unit kind to its runner (``run_stdio``, ``run_tests``, ``run_calls``), plus ``finish``. Each runner
compiles and executes the program, runs the tests or calls, and ends the process through ``finish``, which writes the
``Record`` status line (``protocol``) with the worker's nonce on fd 3 and exits. A worker that ends any other way
(``sys.exit``/``os._exit`` in the program, a signal) leaves no record: the supervisor then judges it a runtime error.

The runners run after the program has started, so every built-in, helper and constant they use is bound when this
module is imported, as closure variables of the ``_make_*`` factories rather than module globals: a program that
patches ``builtins``, ``os``, ``json`` or any loaded module cannot change what the harness does or writes.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import threading
import time

from .codec import clone_value, digest_if_large, encode_value
from .protocol import CALL_DONE, CALL_STARTED, RECORD


def _make_reporter():
    """``send(text)``, ``describe(exc)``, ``finish(nonce, status, detail, extra)``, ``error_status(exc)``."""
    _write, _exit, _str, _type, _isinstance = os.write, os._exit, str, type, isinstance
    _BaseException, _MemoryError, _esc = BaseException, MemoryError, json.encoder.encode_basestring_ascii
    _setrec, _getrec, _record_start = sys.setrecursionlimit, sys.getrecursionlimit, "\n" + RECORD

    def send(text):
        data = text.encode("utf-8", "surrogatepass")
        while data:
            data = data[_write(3, data) :]

    def describe(exc):
        try:
            name = _type(exc).__name__
            msg = _str(exc)
        except _BaseException:
            name, msg = "Exception", "<unprintable>"
        return (_str(name) + (": " + _str(msg) if msg else ""))[:500]

    def finish(nonce, status, detail="", extra=""):
        """Write the record (``extra``: more JSON members, each starting with a comma) and end the worker."""
        if _getrec() < 10_000:
            _setrec(10_000)
        send(
            _record_start
            + '{"nonce":'
            + _esc(nonce)
            + ',"status":'
            + _esc(status)
            + ',"detail":'
            + _esc(detail)
            + extra
            + "}\n"
        )
        _exit(0)

    def error_status(exc):
        return "memory" if _isinstance(exc, _MemoryError) else "runtime_error"

    return send, describe, finish, error_status


def _make_program_runner(describe, finish, error_status):
    """``compile_program(program, nonce)`` and ``exec_program(code, ns, nonce, what)``; both finish on errors."""
    _exec, _compile = exec, compile
    _BaseException, _SystemExit, _MemoryError = BaseException, SystemExit, MemoryError
    _SyntaxError, _ValueError, _RecursionError, _OverflowError = (
        SyntaxError,
        ValueError,
        RecursionError,
        OverflowError,
    )

    def compile_program(program, nonce):
        try:
            return _compile(program, "<program>", "exec", dont_inherit=True, optimize=0)
        except (_SyntaxError, _ValueError, _OverflowError) as exc:
            finish(nonce, "syntax_error", describe(exc))
        except _RecursionError as exc:
            finish(nonce, "syntax_error", "program too deeply nested: " + describe(exc))
        except _MemoryError as exc:
            finish(nonce, "memory", describe(exc))

    def exec_program(code, prog_ns, nonce, what):
        try:
            _exec(code, prog_ns)
        except _SystemExit as exc:
            finish(
                nonce,
                "runtime_error",
                "the program exited before the " + what + " ran (" + describe(exc) + ")",
            )
        except _BaseException as exc:
            finish(nonce, error_status(exc), "while running the program: " + describe(exc))

    return compile_program, exec_program


def _make_run_stdio(compile_program, describe, finish, error_status):
    """``run_stdio(program, nonce, prog_ns, main_thread)``: run the program like ``python program.py``."""
    _exec, _str, _sys, _enumerate_threads = exec, str, sys, threading.enumerate
    _BaseException, _SystemExit = BaseException, SystemExit

    def run_stdio(program, nonce, prog_ns, main_thread):
        code = compile_program(program, nonce)
        status, detail = "completed", ""
        try:
            _exec(code, prog_ns)
        except _SystemExit as exc:
            if exc.code is not None and exc.code != 0:
                status, detail = "runtime_error", "exit status " + _str(exc.code)[:100]
        except _BaseException as exc:
            status, detail = error_status(exc), describe(exc)
        try:  # like interpreter shutdown: wait for the program's non-daemon threads
            for t in _enumerate_threads():
                if t is not main_thread and not t.daemon:
                    t.join()
        except _BaseException:
            pass
        for stream in (_sys.stdout, _sys.__stdout__, _sys.stderr):
            try:
                stream.flush()
            except _BaseException:
                pass
        finish(nonce, status, detail)

    return run_stdio


def _make_run_tests(compile_program, exec_program, describe, finish, error_status):
    """``run_tests(program, tests_code, nonce, prog_ns, helper_ns, restore)``: the program, then the tests."""
    _exec, _int_repr, _builtins, _bdict = exec, int.__repr__, builtins, builtins.__dict__
    _BaseException, _SystemExit, _AssertionError = BaseException, SystemExit, AssertionError
    _helper_types = (type, len, list, tuple, dict, set, frozenset)
    _atoms = (int, float, bool, str, bytes, complex, type(None))

    def run_tests(program, tests_code, nonce, prog_ns, helper_ns, restore):
        code = compile_program(program, nonce)
        exec_program(code, prog_ns, nonce, "tests")
        restore()
        state = [0, 0]  # line of the last assert reached, asserts reached
        eq, at = helper_ns["__resrl_make"](*_helper_types, state, _atoms, 100)
        tests_ns = {k: v for k, v in prog_ns.items() if not (k in _bdict or k.startswith("__"))}
        tests_ns.update(
            {"__name__": "__tests__", "__builtins__": _builtins, "__resrl_eq__": eq, "__resrl_at__": at}
        )
        try:
            _exec(tests_code, tests_ns)
        except _AssertionError as exc:
            extra = ',"line":' + _int_repr(state[0]) + ',"asserts":' + _int_repr(state[1])
            finish(nonce, "failed", describe(exc), extra)
        except _SystemExit as exc:
            finish(
                nonce,
                "runtime_error",
                "exit during the tests (" + describe(exc) + ")",
                ',"line":' + _int_repr(state[0]),
            )
        except _BaseException as exc:
            finish(nonce, error_status(exc), describe(exc), ',"line":' + _int_repr(state[0]))
        finish(nonce, "passed", "", ',"asserts":' + _int_repr(state[1]))

    return run_tests


def _make_run_calls(compile_program, exec_program, send, describe, finish, error_status):
    """``run_calls(program, entry, inputs, nonce, prog_ns)``: the program, then ``entry(*args)`` per input."""
    _len, _range, _getattr, _perf = len, range, getattr, time.perf_counter
    _cjoin, _float_repr, _int_repr = ",".join, float.__repr__, int.__repr__
    _encode, _clone, _digest_if_large = encode_value, clone_value, digest_if_large
    _BaseException, _KeyError = BaseException, KeyError
    _started, _done = CALL_STARTED, CALL_DONE + "\n"

    def members(outputs, times):
        return ',"outputs":[' + _cjoin(outputs) + '],"times":[' + _cjoin(times) + "]"

    def run_calls(program, entry, inputs, nonce, prog_ns):
        code = compile_program(program, nonce)
        exec_program(code, prog_ns, nonce, "calls")
        cls_name, _, fn_name = entry.rpartition(".")
        outputs, times = [], []
        try:
            target = prog_ns[cls_name] if cls_name else prog_ns[fn_name]
        except _KeyError:
            finish(nonce, "runtime_error", "the program does not define " + (cls_name or fn_name))
        for i in _range(_len(inputs)):
            try:
                args = _clone(inputs[i])
                send(_started + _int_repr(i) + "\n")  # the supervisor times call i from here to CALL_DONE
                t0 = _perf()
                fn = _getattr(target(), fn_name) if cls_name else target
                out = fn(*args)
                dt = _perf() - t0
                send(_done)
                enc = _digest_if_large(_encode(out))
            except _BaseException as exc:
                finish(
                    nonce,
                    error_status(exc),
                    describe(exc),
                    ',"call_index":' + _int_repr(i) + members(outputs, times),
                )
            outputs.append(enc)
            times.append(_float_repr(dt))
        finish(nonce, "completed", "", members(outputs, times))

    return run_calls


def make_harness() -> dict:
    """The runners by unit kind, and ``finish`` (for a unit of unknown kind)."""
    send, describe, finish, error_status = _make_reporter()
    compile_program, exec_program = _make_program_runner(describe, finish, error_status)
    return {
        "stdio": _make_run_stdio(compile_program, describe, finish, error_status),
        "tests": _make_run_tests(compile_program, exec_program, describe, finish, error_status),
        "calls": _make_run_calls(compile_program, exec_program, send, describe, finish, error_status),
        "finish": finish,
    }


HARNESS = make_harness()
