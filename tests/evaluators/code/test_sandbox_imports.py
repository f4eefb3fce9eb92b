"""What the sandbox's child imports, and when: standard library only, everything before a worker's guard.

The child (``evaluators/code/sandbox/child``) runs in a stripped interpreter (``-P -s -S -B``, or ``-I``) and, in
every worker, installs the Python guard before the untrusted program's first line. An import after that point would
either be refused by the guard or run with the program in control of builtins and modules, so the child must have
loaded every module it needs before. Proof, in two independent parts:

1. Static, over the AST of every module of the package: each import names a standard-library module
   (``sys.stdlib_module_names``) or a module of the package itself (relative imports; the entry point's absolute
   ``child``); every import statement sits at module level (not in a function, class or lambda, so none can run
   later than its module's own import); every module of the package is reached from the entry point through those
   imports (so all are loaded when the entry starts, before ``supervisor.main`` runs); and the only dynamic import
   is ``worker.preimport``'s loop over ``policy.PREIMPORT``, which the supervisor calls before forking any worker.
2. Dynamic, on the real entry point launched with ``-I``: an audit hook installed before the entry runs records
   every ``import`` audit event (CPython raises it for each module actually loaded, never for one already in
   ``sys.modules``). It sees the guard being installed through the ``sys.addaudithook`` event, which the already
   installed hooks receive first; at that moment it checks that every module found by part 1 has been loaded, and
   from then on it writes any ``import`` event to the worker's stderr, which comes back in the unit's
   ``stderr_tail``. Units of every kind and outcome (pass, failed assert, exception, syntax error, exit status,
   memory error, calls returning every codec type or raising, ``Class.method``) must report the guard's
   installation, nothing missing, and no import after it.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from evaluators.code.sandbox import SandboxConfig, run_tests
from evaluators.code.sandbox.child import policy
from evaluators.code.sandbox.child.protocol import (
    CONTINUE,
    Job,
    Limits,
    Ready,
    Unit,
    UnitResult,
    WorkerStarted,
    decode_frame,
    encode_frame,
)
from evaluators.code.sandbox.host import fresh_uid, unshare_argv
from evaluators.code.sandbox.launch import CHILD_ENTRY

CHILD_DIR = Path(CHILD_ENTRY).parent
PACKAGE = "child"  # the package's name inside the sandbox
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _module_name(path: Path) -> str:
    return {"__init__": PACKAGE, "__main__": "__main__"}.get(path.stem, f"{PACKAGE}.{path.stem}")


def _imports(tree: ast.Module) -> list[tuple[ast.stmt, str, bool]]:
    """(node, imported module name as the child interpreter names it, at module level?) for every import."""
    out = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                out.extend((child, alias.name, not nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level == 0:
                    out.append((child, child.module, not nested))
                    if child.module == PACKAGE:  # from child import supervisor
                        out.extend((child, f"{PACKAGE}.{a.name}", not nested) for a in child.names)
                elif child.module is None:  # from . import x
                    out.extend((child, f"{PACKAGE}.{a.name}", not nested) for a in child.names)
                else:  # from .x import y
                    out.append((child, f"{PACKAGE}.{child.module}", not nested))
            visit(child, nested or isinstance(child, _NESTED))

    visit(tree, False)
    return out


def _static_analysis() -> dict:
    modules = {_module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(CHILD_DIR.glob("*.py"))}
    return {name: _imports(tree) for name, tree in modules.items()} | {"__trees__": modules}


ANALYSIS = _static_analysis()
TREES: dict[str, ast.Module] = ANALYSIS.pop("__trees__")
OWN_MODULES = set(TREES) - {"__main__"}
STDLIB_USED = {
    name for imports in ANALYSIS.values() for _, name, _ in imports if not name.startswith(PACKAGE)
}
EXPECTED_LOADED = sorted(STDLIB_USED | OWN_MODULES | set(policy.PREIMPORT))


def test_the_package_is_what_the_analysis_covers():
    assert {
        "protocol",
        "codec",
        "policy",
        "guard",
        "asserts",
        "harness",
        "rootfs",
        "worker",
        "pump",
        "verdict",
        "supervisor",
    } <= {n.partition(".")[2] for n in OWN_MODULES}
    assert len(TREES) == len(list(CHILD_DIR.glob("*.py")))


@pytest.mark.parametrize("module", sorted(TREES))
def test_child_imports_only_the_standard_library_and_itself(module):
    for node, name, _ in ANALYSIS[module]:
        top = name.partition(".")[0]
        if top == PACKAGE:
            assert name in OWN_MODULES, f"{module}:{node.lineno} imports {name}, not a module of the package"
            assert module == "__main__" or (isinstance(node, ast.ImportFrom) and node.level > 0), (
                f"{module}:{node.lineno}: imports between the package's modules must be relative "
                "(the parent imports them as evaluators.code.sandbox.child.*)"
            )
        else:
            assert top in sys.stdlib_module_names, (
                f"{module}:{node.lineno} imports {name}: not standard library"
            )


@pytest.mark.parametrize("module", sorted(TREES))
def test_every_import_is_at_module_level(module):
    late = [(node.lineno, name) for node, name, top_level in ANALYSIS[module] if not top_level]
    assert late == [], f"{module}: imports inside a function or class could run after the guard: {late}"


def _dynamic_imports(node: ast.AST, where: str) -> list[tuple[str, int]]:
    """(innermost enclosing function, line) of every call that imports by name."""
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Call):
            f = child.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in ("__import__", "import_module", "import_from_path", "run_path", "run_module"):
                found.append((where, child.lineno))
        inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where
        found.extend(_dynamic_imports(child, inner))
    return found


def test_no_dynamic_import_except_the_preimport_before_any_worker():
    dynamic = {(m, fn) for m, tree in TREES.items() for fn, _ in _dynamic_imports(tree, "<module>")}
    assert dynamic == {(f"{PACKAGE}.worker", "preimport")}, dynamic
    assert "importlib" not in STDLIB_USED and "runpy" not in STDLIB_USED


def test_every_module_is_loaded_when_the_entry_point_starts():
    graph = {m: {name for _, name, top in ANALYSIS[m] if top and name.startswith(PACKAGE)} for m in TREES}
    # importing a submodule runs its package's __init__ first
    graph = {m: deps | ({PACKAGE} if deps else set()) for m, deps in graph.items()}
    seen, todo = set(), ["__main__"]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph.get(m, ()))
    assert seen == set(TREES), f"not imported at start-up: {sorted(set(TREES) - seen)}"


def test_the_parent_loads_only_the_shared_modules_of_the_child():
    """The evaluator uses the protocol, the codec and the assert compiler; the supervisor, worker, harness, guard
    and the rest stay out of its process."""
    code = (
        "import sys\nimport evaluators.code.sandbox, evaluators.code._sandbox_child\n"
        "print(sorted(m for m in sys.modules if m.startswith('evaluators.code.sandbox.child')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    ).stdout
    loaded = set(eval(out))  # noqa: S307 - our own subprocess's repr of a list of str
    assert loaded == {f"evaluators.code.sandbox.child{m}" for m in ("", ".codec", ".protocol", ".asserts")}


# ---------------------------------------------------------------------------------------------- dynamic proof
_RECORDER = r"""
import os, sys
EXPECTED = set({expected!r})
seen = set(sys.modules)
armed = []

def recorder(event, args):
    if event == "import":
        if armed:
            os.write(2, ("LATE-IMPORT " + str(args[0]) + "\n").encode())
        else:
            seen.add(args[0])
    elif event == "sys.addaudithook" and not armed:  # the worker is installing its guard
        armed.append(True)
        missing = sorted(EXPECTED - seen - set(sys.modules))
        os.write(2, ("GUARD-INSTALLED missing=" + ",".join(missing) + "\n").encode())

sys.addaudithook(recorder)
import runpy
runpy.run_path({entry!r}, run_name="__main__")
"""

_TESTS_PROGRAM = "def f(x):\n    return x * x\nclass C:\n    def m(self, x):\n        return -x\n"
_CALLS_PROGRAM = (
    "def h(x):\n    return {x: [x, (x,), {x}, frozenset({x})], 'b': b'x', 'c': 1j, 'big': 10 ** 700,\n"
    "               'nan': float('nan'), 'none': None, 'long': 'x' * 70000 if x == 2 else 'y'}\n"
    "def g(x):\n    raise ValueError(x)\n" + _TESTS_PROGRAM
)
UNITS = [
    Unit("tests", _TESTS_PROGRAM, tests="assert f(2) == 4\nassert f(3) != 8\nassert C().m(1) == -1\n"),
    Unit("tests", _TESTS_PROGRAM, tests="assert f(2) == 4\nassert f(3) == 10\n"),
    Unit("tests", _TESTS_PROGRAM, tests="assert f('a') == 1\n"),
    Unit("tests", "def f(:\n", tests="assert f(1) == 1\n"),
    Unit("stdio", "print(input()[::-1])\n", stdin="abc\n"),
    Unit("stdio", "raise SystemExit(3)\n"),
    Unit("stdio", "x = {}\nprint(x['missing'])\n"),
    Unit("stdio", "b = bytearray(10 ** 12)\n"),
    Unit("calls", _CALLS_PROGRAM, entry="h", inputs=({"$tuple": [1]}, {"$tuple": [2]})),
    Unit("calls", _CALLS_PROGRAM, entry="g", inputs=({"$tuple": [1]},)),
    Unit("calls", _CALLS_PROGRAM, entry="C.m", inputs=({"$tuple": [5]},)),
]
EXPECTED_STATUS = [
    "passed",
    "failed",
    "runtime_error",
    "syntax_error",
    "completed",
    "runtime_error",
    "runtime_error",
    "memory",
    "completed",
    "runtime_error",
    "completed",
]


def _run_child(mode: str, argv_head: list[str], units: list[Unit]) -> list:
    """Run ``units`` through the supervisor started as ``argv_head`` (guard on); returns the frames it sent."""
    workdir = tempfile.mkdtemp(prefix="resrl-sandbox-test-")
    try:
        uid = None
        prefix: list[str] = []
        if mode == "namespace":
            prefix, workdir_in, uid = unshare_argv(), "/sandbox", fresh_uid() if os.geteuid() == 0 else None
        else:
            workdir_in = workdir
        limits = Limits(
            memory_mb=256,
            cpu_s=10.0,
            wall_s=10.0,
            fsize_mb=16,
            nproc=64,
            nofile=64,
            tmpfs_mb=16,
            stdout_cap=1 << 20,
            record_cap=1 << 23,
        )
        job = Job(
            mode,
            uid,
            workdir_in,
            workdir_in if mode == "fallback" else "/tmp",
            True,
            True,
            (),
            limits,
            tuple(units),
        )
        stdin = encode_frame(job) + CONTINUE * (len(units) - 1)
        proc = subprocess.run(
            [*prefix, *argv_head],
            input=stdin,
            capture_output=True,
            timeout=240,
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [decode_frame(line) for line in proc.stdout.splitlines()]


def test_no_module_is_imported_after_the_guard(mode):
    code = _RECORDER.format(expected=EXPECTED_LOADED, entry=CHILD_ENTRY)
    frames = _run_child(mode, [sys.executable, "-I", "-S", "-B", "-c", code], UNITS)
    assert type(frames[0]) is Ready
    results = [f for f in frames if type(f) is UnitResult]
    assert [r.status for r in results] == EXPECTED_STATUS, [(r.status, r.detail) for r in results]
    for unit, r in zip(UNITS, results, strict=True):
        lines = r.stderr_tail.splitlines()
        assert "GUARD-INSTALLED missing=" in lines, (
            unit,
            r.stderr_tail[-1000:],
        )  # the guard was seen, nothing missing
        assert not [x for x in lines if x.startswith("LATE-IMPORT")], (unit, r.stderr_tail[-1000:])
    assert (
        "$dict" in results[8].outputs[0] and "$digest" in results[8].outputs[1]
    )  # the large-output path ran


def test_the_entry_point_runs_under_isolated_mode():
    """``python -I <entry>`` (no environment, no script directory, no user site) runs units; so does the parent's
    launch (every other sandbox test)."""
    frames = _run_child("fallback", [sys.executable, "-I", "-S", "-B", CHILD_ENTRY], UNITS[:1] + UNITS[4:5])
    kinds = [type(f) for f in frames]
    assert kinds[0] is Ready and kinds.count(WorkerStarted) == 2
    assert [f.status for f in frames if type(f) is UnitResult] == ["passed", "completed"]


def test_the_program_cannot_reach_the_sandboxs_own_modules(cfg: SandboxConfig):
    """The child's modules are dropped from ``sys.modules`` and its folder from ``sys.path`` before the program runs:
    no ``child.worker.ctypes``, no harness to patch, nothing to import from the project."""
    program = (
        "import sys\n"
        "OWN = sorted(n for n in sys.modules if n == 'child' or n.startswith('child.') or 'sandbox' in n)\n"
        "PATHS = [p for p in sys.path if 'evaluators' in p]\n"
        "CACHED = [str(p) for p in sys.path_importer_cache if 'evaluators' in str(p)]\n"
        "try:\n    import child.worker\n    IMPORTED = True\nexcept ImportError:\n    IMPORTED = False\n"
    )
    tests = "assert OWN == []\nassert PATHS == []\nassert CACHED == []\nassert IMPORTED == False\n"
    v = run_tests(program, tests, timeout_s=5, memory_mb=256, config=cfg)
    assert v.status == "passed", v
