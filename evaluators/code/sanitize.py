"""Turn a model's response into a program: drop the reasoning, pick the code block, keep the definitions.

- ``strip_thinking``: removes ``<think>...</think>`` (Qwen3 think mode) and an unterminated ``<think>`` tail.
- ``extract_code``: the last fenced code block tagged python/py (or untagged) in the answer; if there is no fence,
  the whole answer.
- ``keep_definitions``: for function-completion benchmarks (HumanEval+), only imports, function/class
  definitions and top-level assignments survive; example calls, prints, ``input()`` reads, asserts and
  ``if __name__ == "__main__":`` blocks are dropped so that they cannot fail or block the graded calls.
- ``sanitize_function_completion``: the three steps above plus the prompt's imports and helper functions, or the
  prompt itself when the model only wrote the function body.
"""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_PY_TAGS = ("", "python", "py", "python3", "py3")


def strip_thinking(text: str) -> str:
    """The response without its reasoning: every closed ``<think>`` block, then anything after an open one."""
    text = _THINK.sub("", text)
    if "</think>" in text:  # the template may put the opening tag in the prompt
        text = text.rsplit("</think>", 1)[1]
    if "<think>" in text:  # reasoning cut off by the token budget: no answer
        text = text.split("<think>", 1)[0]
    return text


def extract_code(text: str) -> str:
    """The code the response answers with: the last python (or untagged) fenced block, else the longest fenced
    block, else the whole text. A fence cut off by the token budget still counts (up to the end)."""
    text = strip_thinking(text)
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(text)]
    python_blocks = [body for tag, body in blocks if tag in _PY_TAGS]
    if python_blocks:
        return python_blocks[-1].strip("\n")
    if blocks:
        return max((body for _, body in blocks), key=len).strip("\n")
    return text.strip("\n")


def _is_main_guard(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def keep_definitions(code: str) -> str:
    """Only imports, defs, classes and top-level assignments of ``code`` (unchanged if it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    keep = (
        ast.Import,
        ast.ImportFrom,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Assign,
        ast.AnnAssign,
    )
    lines = code.splitlines()
    out: list[str] = []
    for node in tree.body:
        if not isinstance(node, keep) or _is_main_guard(node):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and _calls_input(node):
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        out.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n".join(out) + "\n"


def _calls_input(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "input"
        for n in ast.walk(node)
    )


def _prompt_preamble(prompt: str, entry_point: str, code: str) -> str:
    """The prompt's imports, plus its helper definitions (not ``entry_point``) that ``code`` does not define."""
    try:
        tree = ast.parse(prompt + "\n    pass\n")
    except SyntaxError:
        return ""
    lines = prompt.splitlines()
    parts = []
    for n in tree.body:
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            parts.append("\n".join(lines[n.lineno - 1 : n.end_lineno]))
        elif (
            isinstance(n, (ast.FunctionDef, ast.ClassDef))
            and n.name != entry_point
            and not _defines(code, n.name)
        ):
            start = min([n.lineno] + [d.lineno for d in n.decorator_list])
            parts.append("\n".join(lines[start - 1 : n.end_lineno]))
    return "\n".join(parts)


def _defines(code: str, name: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return re.search(rf"^\s*def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(n, defs) and n.name == name for n in tree.body)


def sanitize_function_completion(response: str, prompt: str, entry_point: str) -> str:
    """The program graded for a function-completion problem (HumanEval+ style).

    If the extracted code defines ``entry_point``, it is used with the prompt's imports and the prompt's helper
    functions it does not define itself prepended (HumanEval/32's ``poly``, HumanEval/38's ``encode_cyclic``);
    otherwise the code is taken as the function body and appended to the prompt (which ends inside the
    signature and docstring).
    """
    code = extract_code(response)
    if _defines(code, entry_point):
        preamble = _prompt_preamble(prompt, entry_point, code)
        return (preamble + "\n\n" if preamble else "") + keep_definitions(code)
    body = code if code.startswith((" ", "\t")) else "\n".join("    " + line for line in code.splitlines())
    return keep_definitions(prompt + body + "\n")
