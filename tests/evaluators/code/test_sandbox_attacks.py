"""Programs that try to fake a pass, escape, or harm the host. Every case uses small limits and temp dirs, so a
sandbox bug cannot hurt the machine running the tests."""

from __future__ import annotations

import os
import socket
import time

import pytest

from evaluators.code.sandbox import SandboxConfig, run_calls, run_stdio, run_stdio_suite, run_tests

# f(2) == 4 and f(3) == 9: every program below defines a wrong f (or none) and must not pass.
TESTS = "assert f(2) == 4\nassert f(3) == 9\n"
FAKE_RECORD = r"b'\nR{\"nonce\":\"0\",\"status\":\"passed\",\"detail\":\"\"}\n'"

FAKING_TRICKS = {
    "sys_exit_0_before_tests": "import sys\ndef f(x):\n    return 0\nsys.exit(0)\n",
    "os_exit_0_before_tests": "import os\ndef f(x):\n    return 0\nos._exit(0)\n",
    "raise_systemexit_in_call": "def f(x):\n    raise SystemExit(0)\n",
    "keyboardinterrupt": "def f(x):\n    raise KeyboardInterrupt\n",
    "prints_passed": "def f(x):\n    return 0\nprint('PASSED')\nprint('All tests passed!')\n",
    "always_equal_object": (
        "class E:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n"
        "def f(x):\n    return E()\n"
    ),
    "str_subclass_equal_to_all": "class S(str):\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return S()\n",
    "redefines_check_helpers": "def f(x):\n    return 0\ndef check(c):\n    pass\nassert_equal = lambda *a: None\n",
    "fake_record_on_fd3": f"import os\nos.write(3, {FAKE_RECORD})\ndef f(x):\n    return 0\n",
    "fake_record_then_exit": f"import os\nos.write(3, {FAKE_RECORD})\nos._exit(0)\n",
    "thread_exits_during_tests": (
        "import os, threading, time\n"
        "def later():\n    time.sleep(0.05)\n    os._exit(0)\n"
        "threading.Thread(target=later, daemon=True).start()\n"
        "def f(x):\n    time.sleep(0.3)\n    return 0\n"
    ),
    "frame_walk_for_the_nonce": "import sys\nharness_locals = sys._getframe(1).f_locals\ndef f(x):\n    return 0\n",
    "traceback_frame_walk": "try:\n    1 / 0\nexcept Exception as e:\n    fr = e.__traceback__.tb_frame\ndef f(x):\n    return 0\n",
    "gc_scan_for_the_nonce": "import gc\nobjs = gc.get_objects()\ndef f(x):\n    return 0\n",
    "ctypes_memory_access": "import ctypes\ndef f(x):\n    return 0\n",
    "settrace_hook": "import sys\nsys.settrace(lambda *a: None)\ndef f(x):\n    return 0\n",
    "replace_code_object": "def f(x):\n    return 0\n(lambda: 0).__code__ = (lambda: 1).__code__\n",
    "crafted_bytecode_via_marshal": "import marshal\ndef f(x):\n    return 0\n",
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef f(x):\n    return x * x\n",
}


@pytest.mark.parametrize("trick", sorted(FAKING_TRICKS))
def test_faking_tricks_never_pass(trick, cfg):
    v = run_tests(FAKING_TRICKS[trick], TESTS, timeout_s=3, memory_mb=256, config=cfg)
    assert v.status != "passed", (trick, v)
    assert v.status in ("failed", "runtime_error"), (trick, v)


def test_patched_builtins_and_shadowed_globals_are_undone_before_tests(cfg):
    patch = "import builtins\nbuiltins.abs = lambda x: 0\ndef f(x):\n    return 0\n"
    shadow = "abs = lambda x: 0\ndef f(x):\n    return 0\n"
    tests = "assert abs(f(2) - 4) < 1e-9\n"
    for prog in (patch, shadow):
        assert run_tests(prog, tests, timeout_s=3, memory_mb=256, config=cfg).status == "failed"
    # ...while honest use of the same names still works.
    assert run_tests("def f(x):\n    return x * x\n", tests, timeout_s=3, memory_mb=256, config=cfg).passed


def test_kill_parent_without_guard_hits_the_sandbox_not_the_evaluator(mode):
    cfg = SandboxConfig(mode=mode, python_guard=False)
    v = run_tests(FAKING_TRICKS["kill_parent"], TESTS, timeout_s=3, memory_mb=256, config=cfg)
    assert v.status == "runtime_error"  # we are alive to read this verdict


def test_killing_the_supervisor_never_passes_a_stdio_program():
    """Fallback mode without the guard: a stdin/stdout program kills its supervisor, then prints the right answer.
    The supervisor's death must be a runtime error (it used to come back as ``passed`` with 0/1 tests passed)."""
    cfg = SandboxConfig(mode="fallback", python_guard=False, block_processes=False)
    prog = "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(0.5)\nprint(4)\n"
    for run in (
        lambda: run_stdio(prog, "", "4\n", timeout_s=3, memory_mb=256, config=cfg),
        lambda: run_stdio_suite(prog, [("", "4\n")] * 2, timeout_s=3, memory_mb=256, config=cfg),
    ):
        v = run()
        assert v.status == "runtime_error" and v.tests_passed == 0, v


def test_exec_of_a_fake_program_without_guard_has_no_record(mode):
    cfg = SandboxConfig(mode=mode, python_guard=False)
    prog = "import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'print(\"PASSED\")'])\n"
    assert run_tests(prog, TESTS, timeout_s=3, memory_mb=256, config=cfg).status == "runtime_error"


def test_call_outputs_cannot_be_objects(cfg):
    prog = "class E:\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return E()\n"
    v = run_calls(prog, "f", [[1]], timeout_s=3, memory_mb=256, config=cfg)
    assert v.status == "passed"
    assert v.outputs[0] != 1 and v.outputs[0] != v.outputs[0]  # an Unsupported placeholder equals nothing


def test_expected_stdout_never_enters_the_sandbox(cfg):
    # The program prints everything it can find about the test; the expected answer is not there.
    secret = "expected-answer-7c1e"
    prog = "import sys, os\nprint(sys.stdin.read(), sys.argv, dict(os.environ), os.listdir('.'))\n"
    v = run_stdio(prog, "input-data\n", secret + "\n", timeout_s=3, memory_mb=256, config=cfg)
    assert v.status == "failed"
    assert secret not in v.detail


# ------------------------------------------------------------------------------------------------------------
# Escapes and resource attacks
# ------------------------------------------------------------------------------------------------------------
def _listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.2)
    return srv, srv.getsockname()[1]


def _accepted(srv) -> bool:
    try:
        conn, _ = srv.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


def test_no_socket_to_a_local_listening_port(cfg):
    srv, port = _listener()
    try:
        prog = (
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')\n"
        )
        v = run_stdio(prog, "", "connected\n", timeout_s=5, memory_mb=256, config=cfg)
        assert v.status == "runtime_error"
        assert "sandbox: network access" in v.detail  # refused by the guard before any socket exists
        assert not _accepted(srv)
    finally:
        srv.close()


def test_namespace_mode_has_no_network_even_without_the_guard(mode):
    if mode != "namespace":
        pytest.skip("the kernel-level guarantee (a private network namespace) exists in namespace mode only")
    srv, port = _listener()
    try:
        prog = (
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')\n"
        )
        cfg = SandboxConfig(mode=mode, python_guard=False)
        v = run_stdio(prog, "", "connected\n", timeout_s=5, memory_mb=256, config=cfg)
        assert v.status == "runtime_error"
        assert "unreachable" in v.detail or "refused" in v.detail, v.detail
        assert not _accepted(srv)
    finally:
        srv.close()


def test_cannot_write_outside_its_directory(cfg, tmp_path):
    target = tmp_path / "pwned.txt"
    prog = f"open({str(target)!r}, 'w').write('x')\nprint('wrote')\n"
    v = run_stdio(prog, "", "wrote\n", timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "runtime_error"
    assert not target.exists()
    # Its own directory (and its private /tmp) are writable.
    ok = "open('mine.txt', 'w').write('x')\nprint(open('mine.txt').read())\n"
    assert run_stdio(ok, "", "x\n", timeout_s=5, memory_mb=256, config=cfg).passed


def test_namespace_mode_protects_the_filesystem_without_the_guard(mode, tmp_path):
    if mode != "namespace":
        pytest.skip("without the guard, fallback mode relies on file permissions only (documented)")
    target = tmp_path / "pwned.txt"
    prog = f"open({str(target)!r}, 'w').write('x')\nprint('wrote')\n"
    v = run_stdio(
        prog, "", "wrote\n", timeout_s=5, memory_mb=256, config=SandboxConfig(mode=mode, python_guard=False)
    )
    assert v.status == "runtime_error" and not target.exists()


def test_cannot_read_the_project_data(cfg):
    from resrl.paths import data_dir

    path = data_dir() / "code" / "SOURCES.md"
    assert path.is_file()
    v = run_stdio(
        f"print(open({str(path)!r}).read()[:10])\n", "", "x\n", timeout_s=5, memory_mb=256, config=cfg
    )
    assert v.status == "runtime_error"


def test_huge_file_hits_the_file_size_limit(mode):
    cfg = SandboxConfig(mode=mode, fsize_mb=4)
    prog = "with open('big', 'wb') as fh:\n    for _ in range(64):\n        fh.write(b'x' * 1024 * 1024)\nprint('ok')\n"
    v = run_stdio(prog, "", "ok\n", timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "runtime_error" and "File too large" in v.detail


def test_infinite_stdout_is_capped(mode):
    cfg = SandboxConfig(mode=mode, stdout_cap_bytes=256 * 1024)
    v = run_stdio("while True:\n    print('y' * 1000)\n", "", "y\n", timeout_s=10, memory_mb=256, config=cfg)
    assert v.status == "failed" and "output limit" in v.detail


def test_long_sleep_is_stopped_by_the_wall_clock(cfg):
    t0 = time.monotonic()
    v = run_stdio("import time\ntime.sleep(60)\n", "", "", timeout_s=1, memory_mb=256, config=cfg)
    assert v.status == "timeout"
    assert time.monotonic() - t0 < 30  # generous: the point is that it did not wait 60 s


def test_process_creation_is_refused_by_the_guard(cfg):
    v = run_stdio(
        "import os\nos.fork()\nprint('forked')\n", "", "forked\n", timeout_s=5, memory_mb=256, config=cfg
    )
    assert v.status == "runtime_error" and "os.fork" in v.detail


def test_fork_bomb_is_bounded_by_the_kernel(mode, kernel_process_bound):
    if not kernel_process_bound:
        pytest.skip("fallback without a fresh uid: processes are bounded by the guard only (documented)")
    cfg = SandboxConfig(mode=mode, block_processes=False, nproc=16)
    prog = (
        "import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n    except OSError:\n"
        "        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n    n += 1\nprint(n)\n"
    )
    v = run_stdio(prog, "", "0\n", timeout_s=10, memory_mb=256, config=cfg)
    assert v.status == "failed"  # it ran to the end and printed a count, not 0
    got = int(v.detail.split("output starts")[1].strip(" '\\n"))
    assert 0 < got < 16, got  # RLIMIT_NPROC (fresh uid) stopped the loop well before 200


def test_no_process_survives_the_sandbox(mode, kernel_process_bound):
    if not kernel_process_bound:
        pytest.skip("needs a fresh uid or a PID namespace to find and kill stragglers (documented)")
    cfg = SandboxConfig(mode=mode, block_processes=False)
    marker = f"resrl-straggler-{os.getpid()}-{mode}"
    prog = (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
        "    os.execv('/bin/sleep', ['/bin/sleep', '30'])\nprint('parent done')\n"
    )
    run_stdio(prog, "", "parent done\n", timeout_s=5, memory_mb=256, config=cfg)
    time.sleep(0.2)
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except (OSError, StopIteration):
            continue
        if uid >= 3_000_000 and b"sleep" in cmd:  # sandbox uids are fresh and >= 3,000,000
            leftovers.append(pid)
    assert not leftovers, f"processes outlived the sandbox: {leftovers} ({marker})"
