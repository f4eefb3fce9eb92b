"""Test-code transformation for ``run_tests``: every ``assert`` reports its line first, and ``assert a == b``
compares strictly (False when exactly one side is plain data, so an always-equal object cannot pass).

``compile_tests`` runs in the parent (to reject invalid test code early) and in the worker before the program starts;
``make_helper_namespace`` builds the helpers the rewritten asserts call (``__resrl_eq__``, ``__resrl_at__``), which the
harness binds after the program ran, with the real built-in types.
"""

from __future__ import annotations

import ast
import builtins

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
    tree = _AssertRewriter().visit(ast.parse(tests, "<tests>", "exec"))
    ast.fix_missing_locations(tree)
    return compile(tree, "<tests>", "exec", dont_inherit=True, optimize=0)


def make_helper_namespace() -> dict:
    """A namespace holding ``__resrl_make``, compiled from ``_HELPER_SOURCE`` with the real builtins.

    Compiled apart from this module so that the helpers' ``__globals__`` lead nowhere near the harness.
    """
    helper_ns: dict = {"__builtins__": builtins}
    exec(compile(_HELPER_SOURCE, "<helpers>", "exec", dont_inherit=True), helper_ns)
    return helper_ns


class _AssertRewriter(ast.NodeTransformer):
    """``assert t`` -> ``__resrl_at__(line); assert t'``, where ``t'`` calls ``__resrl_eq__`` for ``==``/``!=``."""

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
