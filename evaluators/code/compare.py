"""Tolerant comparison of a program's stdout with the expected output (the parent side of stdin/stdout tests).

Two modes:
- ``"lines"`` (LiveCodeBench-style): the outputs must have the same lines after stripping trailing whitespace
  of each line and dropping trailing blank lines; within a line, tokens are compared one by one.
- ``"tokens"`` (Codeforces' default checker): the outputs must have the same whitespace-separated tokens.

Two tokens match if they are equal strings, or if both are numbers that are equal as decimals ("1.0" matches
"1", "-0" matches "0"), or, when ``float_tol`` is given and the expected token is a number, if
``|actual - expected| <= float_tol * max(1, |expected|)`` (Codeforces' "absolute or relative error" rule).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

MODES = ("lines", "tokens")


def _as_decimal(token: str) -> Decimal | None:
    if not token or token[0] not in "+-.0123456789" or len(token) > 400:
        return None
    try:
        d = Decimal(token)
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def tokens_match(actual: str, expected: str, float_tol: float | None = None) -> bool:
    """Whether one output token matches the expected token (see the module docstring)."""
    if actual == expected:
        return True
    e = _as_decimal(expected)
    if e is None:
        return False
    a = _as_decimal(actual)
    if a is None:
        return False
    if a == e:
        return True
    if float_tol is None:
        return False
    af, ef = float(a), float(e)
    return math.isfinite(af) and abs(af - ef) <= float_tol * max(1.0, abs(ef))


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def stdout_matches(actual: str, expected: str, float_tol: float | None = None, mode: str = "lines") -> bool:
    """Whether ``actual`` stdout matches ``expected`` in ``mode`` ("lines" or "tokens")."""
    if mode not in MODES:
        raise ValueError(f"compare mode must be one of {MODES}, got {mode!r}")
    if float_tol is not None and not float_tol >= 0:
        raise ValueError(f"float_tol must be >= 0 or None, got {float_tol}")
    if mode == "tokens":
        a, e = actual.split(), expected.split()
        return len(a) == len(e) and all(tokens_match(x, y, float_tol) for x, y in zip(a, e, strict=True))
    a_lines, e_lines = _lines(actual), _lines(expected)
    if len(a_lines) != len(e_lines):
        return False
    for a_line, e_line in zip(a_lines, e_lines, strict=True):
        if a_line.strip() == e_line.strip():
            continue
        a, e = a_line.split(), e_line.split()
        if len(a) != len(e) or not all(tokens_match(x, y, float_tol) for x, y in zip(a, e, strict=True)):
            return False
    return True
