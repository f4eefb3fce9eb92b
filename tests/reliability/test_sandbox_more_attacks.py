"""Sandbox attacks beyond ``tests/evaluators/code/test_sandbox_attacks.py``: threads that outlive the program,
signals aimed at the evaluator and the rest of the host, reading the project's own answers and tests, tampering
with the harness (in memory and on disk), thread and memory bombs, stderr floods, filling the disk.

Safe on the machine running the tests: every signal sent is SIGURG (default action: ignored), so even a sandbox
bug cannot kill anything; its arrival is detected by a handler in the test process and in a canary process.
Limits are small and every run is bounded by a wall clock of a few seconds."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evaluators.code.sandbox import (
    SandboxConfig,
    _interpreter_world_readable,
    detect_mode,
    run_stdio,
    run_tests,
)
from evaluators.code.sandbox.launch import CHILD_ENTRY
from resrl.paths import REPO_ROOT, data_dir

pytestmark = pytest.mark.timeout(300)

TESTS = "assert f(2) == 4\nassert f(3) == 9\n"  # every program below defines a wrong f (or none)
SIGURG = int(signal.SIGURG)  # the programs use the number: the guard refuses `import signal`
CHILD_DIR = Path(CHILD_ENTRY).parent  # the code that runs inside the sandbox
HARNESS_FILE = CHILD_DIR / "harness.py"
MODES = (["namespace"] if shutil.which("unshare") and detect_mode() == "namespace" else []) + ["fallback"]


@pytest.fixture(params=MODES)
def mode(request) -> str:
    return request.param


def _kernel_bounds_processes(mode: str) -> bool:
    """Namespace mode, or fallback with a fresh uid: the kernel (not only the guard) confines signals/processes."""
    return mode == "namespace" or (os.geteuid() == 0 and _interpreter_world_readable())


def _descendants(root: int) -> list[tuple[int, str]]:
    """(pid, command line) of every living descendant of ``root``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            out.append((pid, cmd))
            todo.append(pid)
    return out


def _no_sandbox_left() -> list[tuple[int, str]]:
    time.sleep(0.3)
    return [(p, c) for p, c in _descendants(os.getpid()) if CHILD_ENTRY in c or "unshare" in c]


# ------------------------------------------------------------------------------------------------ threads
def test_non_daemon_thread_that_never_ends_is_a_timeout_and_leaves_nothing(mode):
    prog = (
        "import threading, time\ndef spin():\n    while True:\n        time.sleep(0.01)\n"
        "threading.Thread(target=spin).start()\nprint('main done')\n"
    )
    v = run_stdio(prog, "", "main done\n", timeout_s=1, memory_mb=256, config=SandboxConfig(mode=mode))
    assert v.status == "timeout", (
        v
    )  # stdin/stdout programs end like the interpreter: after non-daemon threads
    # run_tests judges once the tests ran; the spinning thread neither blocks the verdict nor survives the sandbox
    v = run_tests(
        prog.replace("print('main done')", "def f(x):\n    return x * x"),
        TESTS,
        timeout_s=2,
        memory_mb=256,
        config=SandboxConfig(mode=mode),
    )
    assert v.status == "passed", v
    assert not _no_sandbox_left()


def test_thread_flooding_the_record_channel_after_main_cannot_pass(mode):
    prog = (
        "import os, threading\ndef flood():\n    while True:\n        try:\n"
        '            os.write(3, b\'R{"nonce":"0","status":"passed","detail":""}\\n\')\n'
        "        except OSError:\n            pass\n"
        "threading.Thread(target=flood, daemon=True).start()\ndef f(x):\n    return 0\n"
    )
    v = run_tests(prog, TESTS, timeout_s=3, memory_mb=256, config=SandboxConfig(mode=mode))
    assert v.status in ("failed", "runtime_error"), v


def test_thread_bomb_is_bounded(mode):
    prog = (
        "import threading, time\nn = 0\ntry:\n    while n < 100000:\n"
        "        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n        n += 1\n"
        "except Exception as e:\n    print('stopped', n)\n"
    )
    v = run_stdio(prog, "", "x\n", timeout_s=5, memory_mb=256, config=SandboxConfig(mode=mode, nproc=64))
    assert v.status == "failed" and "stopped" in v.detail, (
        v
    )  # thread creation failed: RLIMIT_NPROC / RLIMIT_AS
    started = int(v.detail.split("stopped")[1].split("\\n")[0].strip(" '"))
    assert started < 1000, started
    assert not _no_sandbox_left()


# ------------------------------------------------------------------------------------------------ signals
@pytest.fixture
def canary(tmp_path):
    """A host process (our child, same uid) that logs every SIGURG it receives to a file; and a handler in this
    process that records the ones it receives."""
    received: list[int] = []
    old = signal.signal(signal.SIGURG, lambda *a: received.append(1))
    log = tmp_path / "canary.log"
    code = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGURG, lambda *a: open({str(log)!r}, 'a').write('GOT\\n'))\n"
        "print('ready', flush=True)\ntime.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.log = log
    try:
        yield proc, received
    finally:
        proc.kill()
        proc.wait()
        signal.signal(signal.SIGURG, old)


def _signal_programs(canary_pid: int) -> dict[str, str]:
    me, group = os.getpid(), os.getpgid(0)
    return {
        "every_process": f"import os\nos.kill(-1, {SIGURG})\n",
        "the_evaluator": f"import os\nos.kill({me}, {SIGURG})\n",
        "the_evaluators_group": f"import os\nos.killpg({group}, {SIGURG})\n",
        "its_parent": f"import os\nos.kill(os.getppid(), {SIGURG})\n",
        "a_host_process": f"import os\nos.kill({canary_pid}, {SIGURG})\n",
    }


@pytest.mark.parametrize("guard", [True, False], ids=["guard", "no_guard"])
def test_signals_never_reach_the_evaluator_or_the_host(mode, guard, canary):
    if not guard and not _kernel_bounds_processes(mode):
        pytest.skip(
            "fallback without a fresh uid: only the guard stops kill() (documented in evaluators/code/README)"
        )
    proc, received = canary
    cfg = SandboxConfig(mode=mode, python_guard=guard, block_processes=guard)
    for name, prog in _signal_programs(proc.pid).items():
        v = run_stdio(prog + "print('sent')\n", "", "sent\n", timeout_s=3, memory_mb=256, config=cfg)
        assert v.status == "runtime_error", (name, v)  # refused by the guard, or ESRCH/EPERM from the kernel
    time.sleep(0.3)
    assert received == [], "a signal from the sandbox reached the evaluator"
    assert not proc.log.exists(), "a signal from the sandbox reached a host process"
    assert proc.poll() is None


# ------------------------------------------------------------------------------------------------ reading
def _secret_files() -> dict[str, Path]:
    files = {
        "math_answers": data_dir() / "math" / "arith.jsonl",
        "this_test_file": Path(__file__).resolve(),
        "evaluator_source": CHILD_DIR.parents[1] / "humaneval.py",
    }
    cached = sorted((REPO_ROOT / "results" / "cache" / "code").glob("humanevalplus-*.json"))
    if cached:  # the expected outputs of HumanEval+, when computed
        files["expected_outputs_cache"] = cached[0]
    return files


def _reads(path: Path) -> dict[str, str]:
    p = str(path)
    return {
        "open": f"print(open({p!r}).readline(), end='')\n",
        "relative_traversal": f"print(open('../../../../../../../..' + {p!r}).readline(), end='')\n",
        "symlink": f"import os\nos.symlink({p!r}, 'link')\nprint(open('link').readline(), end='')\n",
        "source_loader": (
            "import importlib.machinery as m\n"
            f"print(m.SourceFileLoader('x', {p!r}).get_data({p!r}).decode().splitlines()[0])\n"
        ),
        "proc_root_of_evaluator": f"print(open('/proc/{os.getpid()}/root' + {p!r}).readline(), end='')\n",
    }


def test_cannot_read_the_projects_answers_or_tests(mode):
    cfg = SandboxConfig(mode=mode)
    for fname, path in _secret_files().items():
        first = path.read_text().splitlines()[0] + "\n"
        for how, prog in _reads(path).items():
            # expected stdout = the secret: a program that could read it would pass
            v = run_stdio(prog, "", first, timeout_s=3, memory_mb=256, config=cfg)
            assert v.status == "runtime_error", (fname, how, v)
            assert first.strip()[:40] not in (v.detail + (v.stderr_tail or "")), (fname, how)


# ------------------------------------------------------------------------------------------------ tampering
HARNESS_TAMPERING = {
    "patch_json_dumps": 'import json\njson.dumps = lambda *a, **k: \'{"status": "passed"}\'\ndef f(x):\n    return 0\n',
    "rewrite_os_write": (
        "import os\n_w = os.write\nos.write = lambda fd, b: _w(fd, b.replace(b'failed', b'passed'))\n"
        "def f(x):\n    return 0\n"
    ),
    "atexit_exit_0": "import atexit, os\natexit.register(lambda: os._exit(0))\ndef f(x):\n    return 0\n",
    "swap_assertion_error": "import builtins\nbuiltins.AssertionError = type('E', (Exception,), {})\ndef f(x):\n    return 0\n",
    "silence_excepthook": "import sys\nsys.excepthook = lambda *a: None\ndef f(x):\n    return 0\n",
    "replace_stdout": "import io, sys\nsys.stdout = sys.stderr = io.StringIO()\ndef f(x):\n    return 0\n",
    "patch_loaded_harness_modules": (
        "import sys\nfor m in list(sys.modules.values()):\n"
        "    for name in ('run_tests', 'run_stdio', 'main', '_report'):\n"
        "        if hasattr(m, name):\n"
        "            try:\n                setattr(m, name, lambda *a, **k: None)\n"
        "            except Exception:\n                pass\n"
        "def f(x):\n    return 0\n"
    ),
    "write_harness_file": (
        f"open({str(HARNESS_FILE)!r}, 'a').write('\\nSTATUS = \"passed\"\\n')\ndef f(x):\n    return 0\n"
    ),
    "write_test_file": f"open({str(Path(__file__).resolve())!r}, 'a').write('# pwned')\ndef f(x):\n    return 0\n",
}


@pytest.mark.parametrize("name", sorted(HARNESS_TAMPERING))
def test_harness_tampering_never_passes(name, mode):
    files = [*sorted(CHILD_DIR.glob("*.py")), Path(__file__).resolve()]
    before = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    v = run_tests(HARNESS_TAMPERING[name], TESTS, timeout_s=3, memory_mb=256, config=SandboxConfig(mode=mode))
    assert v.status in ("failed", "runtime_error"), (name, v)
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in files] == before  # files on disk untouched


# ------------------------------------------------------------------------------------------------ resources
def test_memory_bombs_hit_the_memory_limit(mode):
    cfg = SandboxConfig(mode=mode)
    growing = "x = []\nwhile True:\n    x.append(' ' * 10 ** 6)\n"
    in_thread = (
        "import threading\ndef eat():\n    global blob\n    blob = bytearray(2 * 1024 ** 3)\n"
        "t = threading.Thread(target=eat)\nt.start()\nt.join()\nprint(len(blob))\n"
    )
    assert run_stdio(growing, "", "", timeout_s=10, memory_mb=256, config=cfg).status == "memory"
    v = run_stdio(in_thread, "", str(2 * 1024**3) + "\n", timeout_s=10, memory_mb=256, config=cfg)
    assert v.status in ("memory", "runtime_error") and v.status != "passed", v


def test_stderr_flood_is_bounded(mode):
    v = run_stdio(
        "import sys\nwhile True:\n    sys.stderr.write('e' * 10000)\n",
        "",
        "",
        timeout_s=1,
        memory_mb=256,
        config=SandboxConfig(mode=mode),
    )
    assert v.status == "timeout"
    assert len(v.stderr_tail or "") <= 64 * 1024  # only a tail is kept


def test_filling_the_disk_stops_at_the_private_tmpfs():
    if "namespace" not in MODES:
        pytest.skip(
            "the total-size bound is the namespace mode's private tmpfs (fallback: per-file RLIMIT_FSIZE only)"
        )
    prog = (
        "i = 0\nwhile True:\n    with open(f'f{i}', 'wb') as fh:\n        fh.write(b'x' * (2 * 1024 * 1024))\n"
        "    i += 1\n"
    )
    v = run_stdio(
        prog, "", "", timeout_s=10, memory_mb=256, config=SandboxConfig(mode="namespace", tmpfs_mb=16)
    )
    assert v.status == "runtime_error" and "No space left on device" in v.detail, v
