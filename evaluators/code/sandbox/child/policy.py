"""The sandbox's policy, as data: what the Python guard refuses and what every program gets pre-imported.

``guard.make_guard`` enforces these sets; ``worker`` removes ``DENIED_MODULES`` from ``sys.modules`` before the
program starts (so importing one again raises the guard's ``import`` event) and pre-imports ``PREIMPORT``. Changing
a line here changes what model-written programs may do: each set is small enough to read in full.
"""

from __future__ import annotations

# Modules a program must not import: raw memory / process / signal / subinterpreter access.
DENIED_MODULES = frozenset(
    {
        "ctypes",
        "_ctypes",
        "marshal",
        "_posixsubprocess",
        "subprocess",
        "multiprocessing",
        "_multiprocessing",
        "signal",
        "_signal",
        "pty",
        "termios",
        "resource",
        "fcntl",
        "_posixshmem",
        "sqlite3",
        "_sqlite3",
        "_testcapi",
        "_testinternalcapi",
        "_testbuffer",
        "_testmultiphase",
        "_xxsubinterpreters",
        "_xxinterpchannels",
        "_xxtestfuzz",
    }
)

# Audit events that are always refused (frame/memory introspection, tracing, code forging, rlimit changes).
DENIED_EVENTS = frozenset(
    {
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
        "sys._current_frames",
        "sys._current_exceptions",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "code.__new__",
        "marshal.loads",
        "marshal.load",
        "resource.setrlimit",
        "resource.prlimit",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.dlsym/handle",
        "ctypes.cdata",
        "ctypes.cdata/buffer",
        "ctypes.addressof",
        "ctypes.string_at",
        "ctypes.wstring_at",
        "ctypes.call_function",
        "ctypes.get_errno",
        "ctypes.set_errno",
        "cpython.PyInterpreterState_New",
        "cpython._PySys_ClearAuditHooks",
        "sys.monitoring.register_callback",
        "pty.spawn",
        "os.startfile",
        "webbrowser.open",
    }
)

# Audit events that start processes or send signals: refused unless the job lets the kernel bound processes alone.
PROCESS_EVENTS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "subprocess.Popen",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
    }
)

# Attributes that lead to frames (and from there to the harness's locals, such as the nonce).
FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back", "gi_yieldfrom"})

# Function attributes a program must not replace (code swapping, global/builtin redirection).
PROTECTED_FUNCTION_ATTRS = frozenset({"__code__", "__globals__", "__closure__", "__builtins__"})

# Audit event -> positions of its path arguments that are written to (checked against the writable roots).
PATH_EVENTS = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.rename": (0, 1),
    "os.mkdir": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "os.truncate": (0,),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.copytree": (1,),
    "shutil.move": (0, 1),
    "os.mkfifo": (0,),
    "os.mknod": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "os.chflags": (0,),
    "os.lchown": (0,),
    "os.lchmod": (0,),
}

# The only /proc files a program may read.
PROC_READABLE = frozenset({"/proc/cpuinfo", "/proc/meminfo", "/proc/self/status", "/proc/self/stat"})

# Imported once per sandbox, before any guard, because model-written programs use them most; other modules are
# imported by the program itself, compiled from source (cached bytecode would need ``marshal``, which is denied).
PREIMPORT = ("math", "collections", "itertools", "functools", "heapq", "bisect", "re", "string", "typing")
