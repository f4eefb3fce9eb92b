"""The Python guard: the audit hook a worker installs before the untrusted program's first line.

``make_guard`` returns the hook; it enforces the sets of ``policy`` (modules, events, frame attributes, written
paths) and the job's path roots. A second layer, not the boundary (CPython's audit hooks are not a security
mechanism on their own): the kernel layer is the worker's uid, rlimits and, in namespace mode, the namespaces.
Everything the hook uses is bound when it is made, so a program cannot redirect it by patching modules.
"""

from __future__ import annotations

import os

from .policy import (
    DENIED_EVENTS,
    DENIED_MODULES,
    FRAME_ATTRS,
    PATH_EVENTS,
    PROC_READABLE,
    PROCESS_EVENTS,
    PROTECTED_FUNCTION_ATTRS,
)


def _roots(paths) -> tuple[str, ...]:
    return tuple(r.rstrip("/") + "/" for r in paths)


def _make_path_checks(write_roots, hidden_roots, readable_roots):
    """``check_write(path, event)`` and ``check_read(path)``: raise PermissionError outside the allowed roots."""
    _realpath, _fsdecode, _isabs, _join = os.path.realpath, os.fsdecode, os.path.isabs, os.path.join
    _getcwd, _type, _int, _startswith = os.getcwd, type, int, str.startswith
    _PermissionError = PermissionError
    writable, hidden = _roots(write_roots), _roots(hidden_roots)
    readable = _roots(readable_roots)  # wins over hidden (the standard library under a hidden home)
    proc_readable = PROC_READABLE

    def resolve(path):
        p = _fsdecode(path)
        if not _isabs(p):
            p = _join(_getcwd(), p)
        return _realpath(p)

    def check_write(path, event):
        if _type(path) is _int:
            return
        p = resolve(path)
        if p == "/dev/null" or _startswith(p + "/", writable):
            return
        raise _PermissionError(f"sandbox: {event} outside the working directory is not allowed: {p}")

    def check_read(path):
        if _type(path) is _int:
            return
        p = resolve(path)
        if _startswith(p + "/", readable):
            return
        if _startswith(p + "/", hidden) or (_startswith(p, "/proc/") and p not in proc_readable):
            raise _PermissionError(f"sandbox: reading {p} is not allowed")

    return check_write, check_read


def make_guard(write_roots, hidden_roots, readable_roots, block_processes: bool):
    """The audit hook: refuse denied modules and events, frame access, writes outside ``write_roots``, reads of
    ``hidden_roots`` (but not of ``readable_roots``) and of ``/proc``, and, with ``block_processes``, fork/exec/kill."""
    check_write, check_read = _make_path_checks(write_roots, hidden_roots, readable_roots)
    _type, _int, _str, _startswith, _len = type, int, str, str.startswith, len
    _PermissionError, _ImportError, _ValueError = PermissionError, ImportError, ValueError
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    denied_events, process_events, frame_attrs = DENIED_EVENTS, PROCESS_EVENTS, FRAME_ATTRS
    denied_modules, path_events, protected_attrs = DENIED_MODULES, PATH_EVENTS, PROTECTED_FUNCTION_ATTRS

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if (_type(flags) is _int and flags & write_flags) or (
                _type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
            ):
                check_write(path, "writing")
            check_read(path)
        elif event == "import":
            if args[0].partition(".")[0] in denied_modules:
                raise _ImportError(f"sandbox: import of {args[0]!r} is not allowed")
        elif event == "object.__getattr__":
            if args[1] in frame_attrs:
                raise _ValueError(f"sandbox: access to {args[1]} is not allowed")
        elif event == "object.__setattr__":
            if args[1] in protected_attrs:
                raise _PermissionError(f"sandbox: setting {args[1]} is not allowed")
        elif event == "sys._getframe" or event == "sys._getframemodulename":
            raise _ValueError("sandbox: frame introspection is not allowed")
        elif event in denied_events:
            raise _PermissionError(f"sandbox: {event} is not allowed")
        elif _startswith(event, "socket."):
            raise _PermissionError(f"sandbox: network access ({event}) is not allowed")
        elif event in process_events:
            if block_processes:
                raise _PermissionError(f"sandbox: {event} is not allowed")
        elif event in path_events:
            for i in path_events[event]:
                if i < _len(args):
                    check_write(args[i], event)
        elif event == "os.chdir":
            check_read(args[0])

    return hook
