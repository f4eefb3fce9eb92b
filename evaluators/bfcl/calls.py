"""Function calls in a model reply -> BFCL's executable call strings (``"cd(folder='document')"``).

Two formats are read:

- chat-template tool calls (Qwen3/Hermes): ``<tool_call>{"name": "cd", "arguments": {"folder": "x"}}</tool_call>``,
  one block per call (``arguments`` may also be a JSON-encoded string). A block that is not valid JSON is
  skipped, as BFCL's Qwen FC decoder does.
- BFCL's prompting format: ``[cd(folder='x'), ls(a=True)]``, the whole reply (after stripping backticks,
  newlines and spaces, with ``[`` ``]`` added when missing, as BFCL's ``default_decode_execute_prompting``).

Text up to a closing ``</think>`` is reasoning and ignored. Arguments must be literals (str, numbers, bool,
None, lists, dicts, tuples, arithmetic on numbers); as in BFCL a bare name ``x`` is read as the string ``'x'``
and a call without keyword arguments as its source text. Unlike BFCL's decoder, positional arguments are
kept (the executable methods accept them and the ground truth uses them, e.g. ``sort('final_report.pdf')``).
Every call is re-rendered from the parsed values with ``repr``, so the string that BFCL later ``eval``s only
ever contains a function name and literals.
"""

from __future__ import annotations

import ast
import json
import keyword
import operator
import re
from dataclasses import dataclass, field
from typing import Any

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)
_NUMBER_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


@dataclass(frozen=True)
class Call:
    """One parsed call: function name, positional and keyword argument values."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def source(self) -> str:
        """The call as Python source (BFCL's decoded format): ``name(v1, k=repr(v), ...)``."""
        parts = [repr(v) for v in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class ParsedReply:
    """The calls of one reply (empty: the reply ends the user turn), the format they were read in
    (``"tool_call"``, ``"python"`` or ``"none"``) and what could not be read (``errors``; empty when clean).
    ``attempted``: the reply looked like calls (a ``<tool_call>`` tag, or a ``[``/``name(`` opening)."""

    calls: list[Call]
    format: str
    errors: list[str] = field(default_factory=list)
    attempted: bool = False

    @property
    def malformed(self) -> bool:
        """The reply tried to call functions but (part of) it could not be read."""
        return self.attempted and bool(self.errors)


def strip_reasoning(text: str) -> str:
    """The text after the last ``</think>`` (the whole text when there is none)."""
    return text.rsplit("</think>", 1)[-1] if "</think>" in text else text


def _is_name(s: Any) -> bool:
    return isinstance(s, str) and s.isidentifier() and not keyword.iskeyword(s)


def parse_reply(text: str) -> ParsedReply:
    """Read the function calls of ``text`` (see the module docstring for the two formats)."""
    body = strip_reasoning(text)
    if "<tool_call>" in body:
        return _parse_tool_calls(body)
    return _parse_python(body)


def _parse_tool_calls(body: str) -> ParsedReply:
    calls: list[Call] = []
    errors: list[str] = []
    blocks = _TOOL_CALL.findall(body)
    if not blocks:
        errors.append("<tool_call> without a closing </tool_call>")
    for block in blocks:
        try:
            obj = json.loads(block)
        except json.JSONDecodeError as e:
            errors.append(f"tool call is not valid JSON ({e.msg}): {block[:200]!r}")
            continue
        try:
            calls.append(_call_from_json(obj))
        except ValueError as e:
            errors.append(str(e))
    return ParsedReply(calls, "tool_call", errors, attempted=True)


def _call_from_json(obj: Any) -> Call:
    if not isinstance(obj, dict) or "name" not in obj:
        raise ValueError(f"tool call must be an object with 'name' and 'arguments', got {str(obj)[:200]!r}")
    name, args = obj["name"], obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise ValueError(f"tool call {name!r}: arguments string is not JSON ({e.msg})") from None
    if not _is_name(name):
        raise ValueError(f"tool call name {name!r} is not a function name")
    if not isinstance(args, dict) or not all(_is_name(k) for k in args):
        raise ValueError(f"tool call {name!r}: arguments must be an object with parameter names as keys")
    return Call(name, (), dict(args))


def _parse_python(body: str) -> ParsedReply:
    src = body.strip("`\n ")
    attempted = src.startswith("[") or bool(re.match(r"[A-Za-z_]\w*\s*\(", src))
    if not src.startswith("["):
        src = "[" + src
    if not src.endswith("]"):
        src = src + "]"
    try:
        tree = ast.parse(src.strip().strip("'"), mode="eval").body
    except SyntaxError as e:
        return ParsedReply([], "none", [f"not a list of calls ({e.msg})"], attempted)
    except (RecursionError, MemoryError, ValueError):  # absurdly nested text, or a NUL byte
        return ParsedReply([], "none", ["not a list of calls (unparsable)"], attempted)
    elts = [tree] if isinstance(tree, ast.Call) else getattr(tree, "elts", None)
    if elts is None:
        return ParsedReply([], "none", ["not a list of calls"], attempted)
    calls = []
    try:
        for node in elts:
            if not isinstance(node, ast.Call):
                raise ValueError(f"list element {ast.unparse(node)[:100]!r} is not a call")
            calls.append(_call_from_ast(node))
    except ValueError as e:
        return ParsedReply([], "none", [str(e)], attempted)
    except RecursionError:
        return ParsedReply([], "none", ["argument nested too deeply"], attempted)
    return ParsedReply(calls, "python" if calls else "none", [], attempted)


def _call_from_ast(node: ast.Call) -> Call:
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        raise ValueError(f"call target {ast.unparse(node.func)[:100]!r} is not a function name")
    parts.append(func.id)
    name = ".".join(reversed(parts))
    kwargs = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise ValueError(f"{name}: **kwargs are not supported")
        kwargs[kw.arg] = _literal(kw.value)
    args = []
    for a in node.args:
        if isinstance(a, ast.Starred):
            raise ValueError(f"{name}: *args are not supported")
        args.append(_literal(a))
    return Call(name, tuple(args), kwargs)


def _literal(node: ast.AST) -> Any:
    """The value of an argument expression (literals only; see the module docstring)."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _literal(node.operand)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"unary sign on a non-number: {ast.unparse(node)[:100]!r}")
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _NUMBER_OPS:
        a, b = _literal(node.left), _literal(node.right)
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (a, b)):
            raise ValueError(f"arithmetic on non-numbers: {ast.unparse(node)[:100]!r}")
        try:
            return _NUMBER_OPS[type(node.op)](a, b)
        except ZeroDivisionError:
            raise ValueError(f"division by zero: {ast.unparse(node)[:100]!r}") from None
    if isinstance(node, ast.List):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise ValueError("**mapping in a dict literal is not supported")
        out = {}
        for k, v in zip(node.keys, node.values, strict=True):
            key = _literal(k)
            try:
                out[key] = _literal(v)
            except TypeError:
                raise ValueError(f"unhashable dict key {ast.unparse(k)[:100]!r}") from None
        return out
    if isinstance(node, ast.Name):
        return node.id  # BFCL reads a bare name as its string
    if isinstance(node, ast.Call) and not node.keywords:
        return ast.unparse(node)  # BFCL: a call without keyword arguments is kept as text
    if isinstance(node, ast.Subscript):
        return ast.unparse(node)
    raise ValueError(f"unsupported argument expression {ast.unparse(node)[:100]!r} (literals only)")
