"""The part of the code sandbox that runs inside the sandbox. Standard library only; run as a script.

Process tree (``namespace`` mode; in ``fallback`` mode the ``unshare`` step is missing)::

    evaluator (trusted) -> unshare (new net, pid, mount, ipc, uts namespaces)
        -> this script, PID 1 of the new PID namespace: the *supervisor* (trusted)
            -> one forked *worker* per test unit: drops privileges, sets rlimits, installs the Python guard
               (an audit hook), then runs the untrusted program.

Channels:
    parent -> supervisor stdin   one JSON line (the job); then, after each unit result when the job has several
                                 units, one control byte: ``c`` (continue) or ``s`` (stop).
    supervisor -> parent stdout  JSON lines: ``{"type": "worker"|"unit"|"error", ...}``.
    worker -> supervisor fd 3    ``P<i>``/``D`` lines (call ``i`` started/returned) and one ``R<json>`` record that carries a
                                 per-worker random nonce. The worker closes every other descriptor, so the
                                 program never holds the channel to the parent.

The verdict is the supervisor's: a record without the right nonce is ignored, and a worker that exits without a
record (``sys.exit``/``os._exit`` before the tests ran, a killed process) is a runtime error. For stdin/stdout
and call-and-compare tests the expected answers never enter the sandbox; the parent compares.

Values crossing the boundary use a tagged JSON encoding (``encode_value``/``decode_value``) that accepts only
exact built-in types, so no object of the program's own classes (for instance one whose ``__eq__`` always returns
True) can leave the sandbox.
"""

from __future__ import annotations

import binascii
import builtins
import hashlib
import json
import os
import selectors
import signal
import sys
import threading
import time

MIB = 1024 * 1024
MAX_DEPTH = 200  # nesting depth accepted by the value codec
MAX_NODES = 20_000_000  # values (atoms + containers) per encoded object
_INT_DECIMAL_LIMIT = 10**600  # ints at least this large are sent in hex (CPython limits int->str conversion)
DIGEST_OVER = 65536  # an encoded output longer than this crosses the boundary as its SHA-256 only

# Modules a program must not import: raw memory / process / signal / subinterpreter access.
DENIED_MODULES = frozenset(
    {
        "ctypes", "_ctypes", "marshal", "_posixsubprocess", "subprocess", "multiprocessing", "_multiprocessing",
        "signal", "_signal", "pty", "termios", "resource", "fcntl", "_posixshmem", "sqlite3", "_sqlite3",
        "_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase", "_xxsubinterpreters",
        "_xxinterpchannels", "_xxtestfuzz",
    }
)  # fmt: skip
# Audit events that are always refused (frame/memory introspection, tracing, code forging, rlimit changes).
_DENIED_EVENTS = frozenset(
    {
        "sys.settrace", "sys.setprofile", "sys.addaudithook", "sys._current_frames", "sys._current_exceptions",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "code.__new__", "marshal.loads",
        "marshal.load", "resource.setrlimit", "resource.prlimit", "ctypes.dlopen", "ctypes.dlsym",
        "ctypes.dlsym/handle", "ctypes.cdata", "ctypes.cdata/buffer", "ctypes.addressof", "ctypes.string_at",
        "ctypes.wstring_at", "ctypes.call_function", "ctypes.get_errno", "ctypes.set_errno",
        "cpython.PyInterpreterState_New", "cpython._PySys_ClearAuditHooks",
        "sys.monitoring.register_callback", "pty.spawn", "os.startfile", "webbrowser.open",
    }
)  # fmt: skip
_PROCESS_EVENTS = frozenset(
    {"os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen",
     "os.kill", "os.killpg", "signal.pthread_kill"}
)  # fmt: skip
_FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back", "gi_yieldfrom"})
_PATH_EVENTS = {  # event -> positions of path arguments that are written to
    "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.chmod": (0,),
    "os.chown": (0,), "os.utime": (0,), "os.truncate": (0,), "os.link": (0, 1), "os.symlink": (1,),
    "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.copytree": (1,), "shutil.move": (0, 1),
    "os.mkfifo": (0,), "os.mknod": (0,), "os.setxattr": (0,), "os.removexattr": (0,), "os.chflags": (0,),
    "os.lchown": (0,), "os.lchmod": (0,),
}  # fmt: skip
_PROC_READABLE = frozenset({"/proc/cpuinfo", "/proc/meminfo", "/proc/self/status", "/proc/self/stat"})


# ----------------------------------------------------------------------------------------------------------
# Value codec (tagged JSON). Used by the worker (encode outputs, decode inputs) and by the parent.
# ----------------------------------------------------------------------------------------------------------
def _make_codec():
    """Build ``encode``/``clone`` with every built-in they use bound now, so later patching cannot reach them."""
    _type, _len, _int_repr, _float_repr = type, len, int.__repr__, float.__repr__
    _int_format, _esc, _b64 = int.__format__, json.encoder.encode_basestring_ascii, binascii.b2a_base64
    _list, _tuple, _dict, _set, _frozenset, _bytes, _complex = (
        list,
        tuple,
        dict,
        set,
        frozenset,
        bytes,
        complex,
    )
    _str, _int, _float, _bool, _none = str, int, float, bool, type(None)
    _lim, _max_depth, _max_nodes = _INT_DECIMAL_LIMIT, MAX_DEPTH, MAX_NODES
    _join = "".join
    _exc = (RecursionError, MemoryError, OverflowError)

    class _Unsupported(Exception):
        pass

    def _float_text(v):
        if v != v:
            return '{"$float":"nan"}'
        if v == float("inf"):
            return '{"$float":"inf"}'
        if v == float("-inf"):
            return '{"$float":"-inf"}'
        return _float_repr(v)

    def _enc(v, depth, out, count):
        count[0] += 1
        if depth > _max_depth or count[0] > _max_nodes:
            raise _Unsupported
        t = _type(v)
        if t is _str:
            out.append(_esc(v))
        elif t is _bool:
            out.append("true" if v else "false")
        elif t is _int:
            if -_lim < v < _lim:
                out.append(_int_repr(v))
            else:
                out.append('{"$int":"' + _int_format(v, "x") + '"}')
        elif t is _float:
            out.append(_float_text(v))
        elif t is _none:
            out.append("null")
        elif t is _list or t is _tuple or t is _set or t is _frozenset:
            if t is not _list:
                out.append('{"$tuple":[' if t is _tuple else '{"$set":[' if t is _set else '{"$frozenset":[')
            else:
                out.append("[")
            first = True
            for item in v:
                if not first:
                    out.append(",")
                first = False
                _enc(item, depth + 1, out, count)
            out.append("]" if t is _list else "]}")
        elif t is _dict:
            out.append('{"$dict":[')
            first = True
            for k, item in v.items():
                if not first:
                    out.append(",")
                first = False
                out.append("[")
                _enc(k, depth + 1, out, count)
                out.append(",")
                _enc(item, depth + 1, out, count)
                out.append("]")
            out.append("]}")
        elif t is _bytes:
            out.append('{"$bytes":"' + _b64(v, newline=False).decode("ascii") + '"}')
        elif t is _complex:
            out.append('{"$complex":[' + _float_text(v.real) + "," + _float_text(v.imag) + "]}")
        else:
            raise _Unsupported

    def encode(value) -> str:
        """JSON text for a value made of exact built-in types; ``{"$unsupported":""}`` for anything else."""
        out = []
        try:
            _enc(value, 0, out, [0])
        except (_Unsupported, *_exc):
            return '{"$unsupported":""}'
        return _join(out)

    def clone(value, depth=0):
        """A fresh deep copy of plain data (the inputs of a call), built from exact built-in types only."""
        t = _type(value)
        if depth > _max_depth:
            raise ValueError("input nested too deeply")
        if t is _list:
            return [clone(x, depth + 1) for x in value]
        if t is _tuple:
            return _tuple(clone(x, depth + 1) for x in value)
        if t is _dict:
            return {clone(k, depth + 1): clone(x, depth + 1) for k, x in value.items()}
        if t is _set:
            return {clone(x, depth + 1) for x in value}
        return value  # immutable atoms (and frozensets of atoms)

    _sha256, _digest_over = hashlib.sha256, DIGEST_OVER

    def digest_if_large(encoded: str) -> str:
        """``encoded`` itself, or ``{"$digest": sha256}`` when longer than ``DIGEST_OVER`` characters."""
        if _len(encoded) <= _digest_over:
            return encoded
        return '{"$digest":"' + _sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest() + '"}'

    return encode, clone, digest_if_large


encode_value, clone_value, digest_if_large = _make_codec()


def decode_value(obj):
    """Inverse of ``encode_value`` applied to ``json.loads`` output. Raises ValueError on malformed input."""
    if isinstance(obj, list):
        return [decode_value(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) != 1:
        raise ValueError(f"malformed encoded value: {sorted(obj)[:3]}")
    ((tag, body),) = obj.items()
    if tag == "$tuple":
        return tuple(decode_value(x) for x in body)
    if tag == "$set":
        return {decode_value(x) for x in body}
    if tag == "$frozenset":
        return frozenset(decode_value(x) for x in body)
    if tag == "$dict":
        return {decode_value(k): decode_value(v) for k, v in body}
    if tag == "$int":
        return int(body, 16)
    if tag == "$float":
        return float(body)
    if tag == "$bytes":
        return binascii.a2b_base64(body)
    if tag == "$complex":
        return complex(decode_value(body[0]), decode_value(body[1]))
    if tag == "$unsupported":
        return Unsupported()
    if tag == "$digest":
        return Digest(body)
    raise ValueError(f"unknown tag {tag!r} in encoded value")


class Digest:
    """A large value, known by the SHA-256 of its encoding: equal to a Digest of the same encoding only."""

    def __init__(self, hexdigest: str) -> None:
        self.hexdigest = str(hexdigest)

    def __eq__(self, other):
        return isinstance(other, Digest) and other.hexdigest == self.hexdigest

    def __hash__(self) -> int:
        return hash(self.hexdigest)

    def __repr__(self) -> str:
        return f"<digest {self.hexdigest[:12]}>"


class Unsupported:
    """Stands for a value the program returned that is not plain data; equal to nothing."""

    __hash__ = object.__hash__

    def __eq__(self, other):
        return False

    def __repr__(self) -> str:
        return "<unsupported value>"


# ----------------------------------------------------------------------------------------------------------
# Test-code transformation: every ``assert`` reports its line first; ``assert a == b`` compares strictly.
# ----------------------------------------------------------------------------------------------------------
_HELPER_SOURCE = """
def __resrl_make(type, len, list, tuple, dict, set, frozenset, state, atoms, max_depth):
    def plain(x, depth):
        t = type(x)
        if t in atoms:
            return True
        if depth > max_depth:
            return False
        if t is list or t is tuple or t is set or t is frozenset:
            for item in x:
                if not plain(item, depth + 1):
                    return False
            return True
        if t is dict:
            for k, v in x.items():
                if not (plain(k, depth + 1) and plain(v, depth + 1)):
                    return False
            return True
        return False

    def eq(a, b):
        # A plain value is never equal to an object of the program's own making (e.g. an always-equal object).
        pa, pb = plain(a, 0), plain(b, 0)
        if pa != pb:
            return False
        return a == b

    def at(line):
        state[0] = line
        state[1] += 1

    return eq, at
"""


def compile_tests(tests: str):
    """Compile test code so that every ``assert`` first reports its line and ``assert a == b`` compares strictly.

    Raises SyntaxError for invalid test code.
    """
    import ast

    class AssertRewriter(ast.NodeTransformer):
        def visit_Assert(self, node: ast.Assert):
            self.generic_visit(node)
            test = node.test
            if (
                isinstance(test, ast.Compare)
                and len(test.ops) == 1
                and isinstance(test.ops[0], (ast.Eq, ast.NotEq))
            ):
                call = ast.Call(ast.Name("__resrl_eq__", ast.Load()), [test.left, test.comparators[0]], [])
                test = call if isinstance(test.ops[0], ast.Eq) else ast.UnaryOp(ast.Not(), call)
            marker = ast.Expr(ast.Call(ast.Name("__resrl_at__", ast.Load()), [ast.Constant(node.lineno)], []))
            new = ast.Assert(test, node.msg)
            for n in (marker, new):
                ast.copy_location(n, node)
                ast.fix_missing_locations(n)
            return [marker, new]

    tree = AssertRewriter().visit(ast.parse(tests, "<tests>", "exec"))
    ast.fix_missing_locations(tree)
    return compile(tree, "<tests>", "exec", dont_inherit=True, optimize=0)


# ----------------------------------------------------------------------------------------------------------
# The Python guard: an audit hook installed in the worker before the program runs.
# ----------------------------------------------------------------------------------------------------------
def _make_guard(write_roots, hidden_roots, readable_roots, block_processes):
    _realpath, _fsdecode, _isabs, _join = os.path.realpath, os.fsdecode, os.path.isabs, os.path.join
    _getcwd, _type, _int, _str, _startswith = os.getcwd, type, int, str, str.startswith
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    writable = tuple(r.rstrip("/") + "/" for r in write_roots)
    hidden = tuple(r.rstrip("/") + "/" for r in hidden_roots)
    readable = tuple(r.rstrip("/") + "/" for r in readable_roots)  # wins over hidden (the standard library)
    denied_events, process_events, frame_attrs = _DENIED_EVENTS, _PROCESS_EVENTS, _FRAME_ATTRS
    denied_modules, path_events, proc_readable = DENIED_MODULES, _PATH_EVENTS, _PROC_READABLE

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
        raise PermissionError(f"sandbox: {event} outside the working directory is not allowed: {p}")

    def check_read(path):
        if _type(path) is _int:
            return
        p = resolve(path)
        if _startswith(p + "/", readable):
            return
        if _startswith(p + "/", hidden) or (_startswith(p, "/proc/") and p not in proc_readable):
            raise PermissionError(f"sandbox: reading {p} is not allowed")

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
                raise ImportError(f"sandbox: import of {args[0]!r} is not allowed")
        elif event == "object.__getattr__":
            if args[1] in frame_attrs:
                raise ValueError(f"sandbox: access to {args[1]} is not allowed")
        elif event == "object.__setattr__":
            if args[1] in ("__code__", "__globals__", "__closure__", "__builtins__"):
                raise PermissionError(f"sandbox: setting {args[1]} is not allowed")
        elif event == "sys._getframe" or event == "sys._getframemodulename":
            raise ValueError("sandbox: frame introspection is not allowed")
        elif event in denied_events:
            raise PermissionError(f"sandbox: {event} is not allowed")
        elif _startswith(event, "socket."):
            raise PermissionError(f"sandbox: network access ({event}) is not allowed")
        elif event in process_events:
            if block_processes:
                raise PermissionError(f"sandbox: {event} is not allowed")
        elif event in path_events:
            for i in path_events[event]:
                if i < len(args):
                    check_write(args[i], event)
        elif event == "os.chdir":
            check_read(args[0])

    return hook


# ----------------------------------------------------------------------------------------------------------
# The harness: runs in the worker; every built-in it uses after the program started is bound beforehand.
# ----------------------------------------------------------------------------------------------------------
def _make_harness():
    _write, _exit, _perf = os.write, os._exit, time.perf_counter
    _str, _type, _len, _range, _getattr, _isinstance = str, type, len, range, getattr, isinstance
    _BaseException, _SystemExit, _MemoryError, _AssertionError = (
        BaseException,
        SystemExit,
        MemoryError,
        AssertionError,
    )
    _SyntaxError, _ValueError, _RecursionError, _OverflowError = (
        SyntaxError,
        ValueError,
        RecursionError,
        OverflowError,
    )
    _KeyError, _exec, _compile, _esc = KeyError, exec, compile, json.encoder.encode_basestring_ascii
    _cjoin, _float_repr, _int_repr = ",".join, float.__repr__, int.__repr__
    _setrec, _getrec = sys.setrecursionlimit, sys.getrecursionlimit
    _encode, _clone, _builtins, _bdict = encode_value, clone_value, builtins, builtins.__dict__
    _digest_if_large = digest_if_large  # uses hashlib.sha256, a C function bound at import
    _enumerate_threads, _sys = threading.enumerate, sys
    _helper_types = (type, len, list, tuple, dict, set, frozenset)
    _atoms = (int, float, bool, str, bytes, complex, type(None))

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
        if _getrec() < 10_000:
            _setrec(10_000)
        send(
            '\nR{"nonce":'
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

    def run_tests(program, tests_code, nonce, prog_ns, helper_ns, restore):
        code = compile_program(program, nonce)
        exec_program(code, prog_ns, nonce, "tests")
        restore()
        state = [0, 0]
        eq, at = helper_ns["__resrl_make"](*_helper_types, state, _atoms, 100)
        tests_ns = {k: v for k, v in prog_ns.items() if not (k in _bdict or k.startswith("__"))}
        tests_ns.update(
            {"__name__": "__tests__", "__builtins__": _builtins, "__resrl_eq__": eq, "__resrl_at__": at}
        )
        try:
            _exec(tests_code, tests_ns)
        except _AssertionError as exc:
            finish(
                nonce,
                "failed",
                describe(exc),
                ',"line":' + _int_repr(state[0]) + ',"asserts":' + _int_repr(state[1]),
            )
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
                send("P" + _int_repr(i) + "\n")  # the supervisor times call i from here to "D"
                t0 = _perf()
                fn = _getattr(target(), fn_name) if cls_name else target
                out = fn(*args)
                dt = _perf() - t0
                send("D\n")
                enc = _digest_if_large(_encode(out))
            except _BaseException as exc:
                extra = (
                    ',"call_index":'
                    + _int_repr(i)
                    + ',"outputs":['
                    + _cjoin(outputs)
                    + '],"times":['
                    + _cjoin(times)
                    + "]"
                )
                finish(nonce, error_status(exc), describe(exc), extra)
            outputs.append(enc)
            times.append(_float_repr(dt))
        finish(nonce, "completed", "", ',"outputs":[' + _cjoin(outputs) + '],"times":[' + _cjoin(times) + "]")

    return {"run_stdio": run_stdio, "run_tests": run_tests, "run_calls": run_calls, "finish": finish}


_HARNESS = _make_harness()


# ----------------------------------------------------------------------------------------------------------
# Namespace mode: a fresh root file system (tmpfs) with read-only system directories, then pivot_root.
# ----------------------------------------------------------------------------------------------------------
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 1024, 2048, 1 << 21
_MNT_DETACH = 2
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
NEW_ROOT = "/tmp"  # mount point of the new root inside the private mount namespace
WORKDIR_IN_NS = "/sandbox"


def _enter_new_root(job: dict) -> None:
    import ctypes
    import platform

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

    def mount(src, target, fstype, flags, data=None):
        def enc(s):
            return None if s is None else s.encode()

        if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount {src} -> {target}: {os.strerror(err)}")

    def bind_readonly(src, dst, dev=False):
        mount(src, dst, None, _MS_BIND | _MS_REC)
        st = os.statvfs(src).f_flag  # keep the flags a user namespace locks (nosuid, nodev, noexec, atime)
        keep = 0
        for st_bit, ms_bit in ((2, _MS_NOSUID), (4, _MS_NODEV), (8, _MS_NOEXEC), (1024, _MS_NOATIME),
                               (2048, _MS_NODIRATIME), (4096, _MS_RELATIME)):  # fmt: skip
            if st & st_bit:
                keep |= ms_bit
        flags = _MS_REMOUNT | _MS_BIND | _MS_NOSUID | keep | (0 if dev else _MS_RDONLY | _MS_NODEV)
        try:
            mount(None, dst, None, flags)
        except OSError:
            if not dev:
                raise

    mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    root = NEW_ROOT
    mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={int(job['limits']['tmpfs_mb'])}m,mode=755")
    # System directories (merged-/usr symlinks are recreated as symlinks) and the interpreter's prefix.
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"):
        if os.path.islink(top):
            os.symlink(os.readlink(top), root + top)
        elif os.path.isdir(top):
            os.makedirs(root + top)
            bind_readonly(top, root + top)
    bound = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/etc/")
    for prefix in sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}):
        if not (prefix + "/").startswith(bound):
            os.makedirs(root + prefix, exist_ok=True)
            bind_readonly(prefix, root + prefix)
    os.makedirs(root + "/dev")
    for dev in ("null", "zero", "full", "random", "urandom"):
        if os.path.exists("/dev/" + dev):
            open(root + "/dev/" + dev, "wb").close()
            bind_readonly("/dev/" + dev, root + "/dev/" + dev, dev=True)
    os.symlink("/proc/self/fd", root + "/dev/fd")
    os.makedirs(root + "/tmp")
    os.chmod(root + "/tmp", 0o1777)
    os.makedirs(root + WORKDIR_IN_NS)
    uid = job.get("uid")
    if uid is not None:
        os.chown(root + WORKDIR_IN_NS, uid, uid)
    os.chmod(root + WORKDIR_IN_NS, 0o700)
    os.chmod(root, 0o755)
    # Switch roots. pivot_root(".", ".") stacks the old root on the new one; detaching it leaves no path back.
    nr = _SYS_PIVOT_ROOT.get(platform.machine())
    os.chdir(root)
    if nr is not None:
        if libc.syscall(nr, b".", b".") != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"pivot_root: {os.strerror(err)}")
        if libc.umount2(b".", _MNT_DETACH) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"umount2: {os.strerror(err)}")
    else:  # unknown architecture: chroot (safe only because the worker drops root)
        os.chroot(".")
    os.chdir("/")


# ----------------------------------------------------------------------------------------------------------
# Worker (forked per unit)
# ----------------------------------------------------------------------------------------------------------
# Imported once per sandbox (before the guard) because model-written programs use them most; other modules are
# imported by the program itself, compiled from source (see _worker).
_PREIMPORT = ("math", "collections", "itertools", "functools", "heapq", "bisect", "re", "string", "typing")


def _preimport() -> None:
    for name in _PREIMPORT:
        try:
            __import__(name)
        except ImportError:
            pass


def _drop_capabilities(libc, ctypes) -> None:
    """Empty the bounding, effective, permitted and inheritable capability sets (no mount, ptrace, chroot, ...)."""
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP; fails harmlessly past the last capability

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3, all zero
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _worker(job: dict, unit: dict, nonce: str) -> None:
    """Forked child: confine itself, then run the untrusted program through the harness. Never returns."""
    import ctypes
    import resource

    os.setsid()
    limits = job["limits"]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: set-uid binaries cannot raise privileges
    uid = job.get("uid")
    if uid is not None:  # from root to a fresh uid: the kernel clears every capability
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    else:  # same uid as the supervisor (user namespace, or fallback without a uid change): drop capabilities
        _drop_capabilities(libc, ctypes)
    del libc
    mem = int(limits["memory_mb"]) * MIB
    cpu = max(1, int(-(-float(limits["cpu_s"]) // 1)))
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    fsize = int(limits["fsize_mb"]) * MIB
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    nofile = int(limits["nofile"])
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    if uid is not None:  # per-user count: binding only for a non-root uid that no other process uses
        resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["nproc"]), int(limits["nproc"])))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # too-large writes fail with EFBIG instead of killing
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL if sig != signal.SIGPIPE else signal.SIG_IGN)
    workdir = job["workdir"]
    os.chdir(workdir)
    os.umask(0o077)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": job["tmpdir"], "LANG": "C.UTF-8"})
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["program.py"]
    sys.setrecursionlimit(10_000)

    kind = unit["kind"]
    tests_code = compile_tests(unit["tests"]) if kind == "tests" else None
    helper_ns: dict = {"__builtins__": builtins}
    exec(compile(_HELPER_SOURCE, "<helpers>", "exec"), helper_ns)
    inputs = [decode_value(x) for x in unit.get("inputs", [])]

    import types

    main_mod = types.ModuleType("__main__")
    main_mod.__dict__["__builtins__"] = builtins
    main_mod.__file__ = os.path.join(workdir, "program.py")
    sys.modules["__main__"] = main_mod
    for name in list(sys.modules):
        if name.partition(".")[0] in DENIED_MODULES or name == "marshal":
            del sys.modules[name]
    # Imports after this point compile from source: reading cached bytecode would need marshal.loads, which the
    # guard refuses (crafted bytecode could read the harness's memory).
    sys.pycache_prefix = "/nonexistent-pycache"
    sys.dont_write_bytecode = True
    saved_builtins = dict(builtins.__dict__)
    saved_modules = [
        (m, dict(m.__dict__))
        for m in list(sys.modules.values())
        if isinstance(m, types.ModuleType) and m is not main_mod
    ]

    def restore():
        """Undo the program's changes to builtins and to already-imported modules before the tests run."""
        for mod, saved in saved_modules:
            d = mod.__dict__
            for key in [k for k in d if k not in saved]:
                del d[key]
            d.update(saved)
        b = builtins.__dict__
        for key in [k for k in b if k not in saved_builtins]:
            del b[key]
        b.update(saved_builtins)

    main_thread = threading.current_thread()
    harness = _HARNESS
    if job.get("guard", True):
        sys.addaudithook(
            _make_guard(
                [workdir, job["tmpdir"]],
                job.get("hidden", []),
                sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}),
                job.get("block_processes", True),
            )
        )
    del job
    if kind == "stdio":
        harness["run_stdio"](unit["program"], nonce, main_mod.__dict__, main_thread)
    elif kind == "tests":
        harness["run_tests"](unit["program"], tests_code, nonce, main_mod.__dict__, helper_ns, restore)
    elif kind == "calls":
        harness["run_calls"](unit["program"], unit["entry"], inputs, nonce, main_mod.__dict__)
    harness["finish"](nonce, "runtime_error", f"unknown unit kind {kind!r}")


# ----------------------------------------------------------------------------------------------------------
# Supervisor
# ----------------------------------------------------------------------------------------------------------
class _Stdin:
    """Unbuffered line/byte reader over fd 0 (the parent's job and control channel)."""

    def __init__(self) -> None:
        self.buf = b""

    def readline(self) -> bytes:
        while b"\n" not in self.buf:
            chunk = os.read(0, 1 << 20)
            if not chunk:
                break
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def read1(self) -> bytes:
        while not self.buf:
            chunk = os.read(0, 4096)
            if not chunk:
                return b""
            self.buf += chunk
        b, self.buf = self.buf[:1], self.buf[1:]
        return b


def _emit(obj: dict) -> None:
    data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    while data:
        data = data[os.write(1, data) :]


def _kill_leftovers(job: dict, worker_pid: int) -> None:
    """Kill the worker's process group and anything else the program started."""
    try:
        os.killpg(worker_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if job["mode"] == "namespace" and os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)  # from PID 1: every process of this PID namespace except itself
        except ProcessLookupError:
            pass
    elif job.get("uid") is not None and job["uid"] >= 100_000 and job["uid"] != os.getuid():
        # A helper with the sandbox's fresh uid: kill(-1) then reaches exactly that uid's processes.
        pid = os.fork()
        if pid == 0:
            try:
                os.setresuid(job["uid"], job["uid"], job["uid"])
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    while True:  # reap whatever has ended
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


def _run_unit(job: dict, unit: dict, index: int) -> dict:
    limits = job["limits"]
    nonce = os.urandom(16).hex()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    st_r, st_w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # worker
        try:
            for fd in (in_w, out_r, err_r, st_r):
                os.close(fd)
            os.dup2(in_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.dup2(st_w, 3)
            os.closerange(4, 1 << 16)
            _worker(job, unit, nonce)
        except BaseException as exc:  # noqa: BLE001 - report set-up failures, never fall through
            try:
                os.write(2, f"sandbox worker set-up failed: {exc!r}\n".encode())
            finally:
                os._exit(125)
    for fd in (in_r, out_w, err_w, st_w):
        os.close(fd)
    if job["mode"] != "namespace":
        _emit({"type": "worker", "pid": pid})

    stdin_data = unit.get("stdin", "").encode("utf-8")
    wall = float(limits["wall_s"])
    call_limits = unit.get("call_limits") or []
    stdout_cap, record_cap, stderr_keep = int(limits["stdout_cap"]), int(limits["record_cap"]), 8192
    sel = selectors.DefaultSelector()
    os.set_blocking(in_w, False)
    if stdin_data:
        sel.register(in_w, selectors.EVENT_WRITE)
    else:
        os.close(in_w)
    for fd in (out_r, err_r, st_r):
        sel.register(fd, selectors.EVENT_READ)
    stdout, stderr, st_buf = bytearray(), bytearray(), bytearray()
    record, bad_records, progress, progress_t = None, 0, None, 0.0
    reason, exit_info, exit_t = None, None, 0.0
    open_readers = 3

    def handle_status_lines():
        nonlocal record, bad_records, progress, progress_t
        while True:
            nl = st_buf.find(b"\n")
            if nl < 0:
                return
            line = bytes(st_buf[:nl])
            del st_buf[: nl + 1]
            if line.startswith(b"P"):
                try:
                    progress, progress_t = int(line[1:]), time.monotonic()
                except ValueError:
                    pass
            elif line == b"D":
                progress = None  # the call returned: its own limit no longer applies
            elif line.startswith(b"R"):
                try:
                    obj = json.loads(line[1:])
                except ValueError:
                    bad_records += 1
                    continue
                if isinstance(obj, dict) and obj.get("nonce") == nonce and record is None:
                    record = obj
                else:
                    bad_records += 1

    while True:
        now = time.monotonic()
        deadline = t0 + wall
        timed_call = None
        if progress is not None and progress < len(call_limits) and record is None:
            call_deadline = progress_t + float(call_limits[progress])
            if call_deadline < deadline:
                deadline, timed_call = call_deadline, progress
        if exit_info is None and now >= deadline:
            reason = ("timeout", timed_call)
            break
        if exit_info is not None and (open_readers == 0 or now - exit_t > 0.25):
            break
        timeout = min(max(deadline - now, 0.0), 0.02 if exit_info is None else 0.01)
        for key, _ in sel.select(timeout):
            fd = key.fd
            if fd == in_w:
                try:
                    n = os.write(in_w, stdin_data[:65536])
                    stdin_data = stdin_data[n:]
                except BlockingIOError:
                    continue
                except (BrokenPipeError, OSError):
                    stdin_data = b""
                if not stdin_data:
                    sel.unregister(in_w)
                    os.close(in_w)
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(fd)
                os.close(fd)
                open_readers -= 1
                continue
            if fd == out_r:
                stdout += chunk
                if len(stdout) > stdout_cap:
                    reason = ("output_limit", None)
            elif fd == err_r:
                stderr += chunk
                if len(stderr) > 4 * stderr_keep:
                    del stderr[: len(stderr) - stderr_keep]
            else:
                st_buf += chunk
                if len(st_buf) > record_cap:
                    reason = ("record_limit", None)
                handle_status_lines()
        if reason is not None:
            break
        if exit_info is None:
            wpid, status, rusage = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                exit_info, exit_t = (status, rusage), time.monotonic()
    wall_used = time.monotonic() - t0
    if exit_info is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        _, status, rusage = os.wait4(pid, 0)
        exit_info = (status, rusage)
    _kill_leftovers(job, pid)
    for key in list(sel.get_map().values()):  # read what is still buffered
        if key.fd in (out_r, err_r, st_r):
            try:
                os.set_blocking(key.fd, False)
                while True:
                    chunk = os.read(key.fd, 1 << 16)
                    if not chunk:
                        break
                    if key.fd == out_r and len(stdout) <= stdout_cap:
                        stdout += chunk
                    elif key.fd == st_r and len(st_buf) <= record_cap:
                        st_buf += chunk
                    elif key.fd == err_r:
                        stderr += chunk
            except (BlockingIOError, OSError):
                pass
        try:
            os.close(key.fd)
        except OSError:
            pass
    sel.close()
    if reason is None:
        handle_status_lines()
    status_code, rusage = exit_info
    cpu_used = rusage.ru_utime + rusage.ru_stime
    err_text = bytes(stderr[-stderr_keep:]).decode("utf-8", "replace")
    result = {"type": "unit", "index": index, "wall_s": round(wall_used, 4), "cpu_s": round(cpu_used, 4),
              "stderr_tail": err_text, "bad_records": bad_records}  # fmt: skip
    if os.WIFSIGNALED(status_code):
        result["exit"] = f"signal {signal.Signals(os.WTERMSIG(status_code)).name}"
    else:
        result["exit"] = f"code {os.WEXITSTATUS(status_code)}"
    if reason is not None and reason[0] == "timeout" and record is not None:
        reason = None  # the harness finished in time; the process was only slow to exit
    if reason is not None and reason[0] == "timeout":
        result.update(
            status="timeout",
            detail=f"wall-clock limit of {wall if reason[1] is None else call_limits[reason[1]]:g} s exceeded",
        )
        if reason[1] is not None:
            result["call_index"] = reason[1]
    elif reason is not None and reason[0] == "output_limit":
        result.update(status="failed", detail=f"output limit of {stdout_cap} bytes exceeded")
    elif reason is not None and reason[0] == "record_limit":
        result.update(status="failed", detail=f"result larger than {record_cap} bytes")
    elif record is not None:
        result.update({k: v for k, v in record.items() if k != "nonce"})
    else:
        sig = os.WTERMSIG(status_code) if os.WIFSIGNALED(status_code) else None
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_used >= float(limits["cpu_s"]) - 0.05):
            result.update(status="timeout", detail=f"CPU-time limit of {limits['cpu_s']} s exceeded")
        elif "MemoryError" in err_text or "Cannot allocate memory" in err_text:
            result.update(status="memory", detail="out of memory")
        else:
            result.update(
                status="runtime_error",
                detail=f"the process ended ({result['exit']}) without a harness record",
            )
    if unit["kind"] == "stdio":
        result["stdout_b64"] = binascii.b2a_base64(bytes(stdout[: stdout_cap + 1]), newline=False).decode(
            "ascii"
        )
    return result


def main() -> None:
    import ctypes
    import resource  # noqa: F401 - imported once here rather than in every worker

    # Not dumpable: a program with the supervisor's uid (user-namespace mode) cannot ptrace or read its memory.
    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
    stdin = _Stdin()
    try:
        job = json.loads(stdin.readline())
    except ValueError as exc:
        _emit({"type": "error", "detail": f"bad job: {exc}"})
        os._exit(2)
    try:
        if job["mode"] == "namespace":
            _enter_new_root(job)
        _preimport()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
        _emit({"type": "error", "detail": f"sandbox set-up failed in {job.get('mode')} mode: {exc!r}"})
        os._exit(2)
    units = job.pop("units")
    if any(u["kind"] == "tests" for u in units):
        import ast  # noqa: F401 - once here rather than in every worker (compile_tests)
    _emit({"type": "ready", "mode": job["mode"], "pid": os.getpid()})
    for i, unit in enumerate(units):
        _emit(_run_unit(job, unit, i))
        if i + 1 < len(units) and stdin.read1() != b"c":
            break
    os._exit(0)


if __name__ == "__main__":
    main()
