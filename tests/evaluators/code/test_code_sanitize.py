"""Code extraction from model responses."""

from __future__ import annotations

from evaluators.code.sanitize import (
    extract_code,
    keep_definitions,
    sanitize_function_completion,
    strip_thinking,
)

PROMPT = 'from typing import List\n\n\ndef helper(x):\n    return x\n\n\ndef add(a: int, b: int) -> int:\n    """Add."""\n'


def test_strip_thinking():
    assert strip_thinking("<think>plan ```python\nbad()```</think>answer") == "answer"
    assert strip_thinking("reasoning</think>answer") == "answer"  # opening tag was in the prompt
    assert strip_thinking("answer<think>cut off") == "answer"


def test_extract_code_prefers_the_last_python_block():
    text = "Try:\n```python\nx = 1\n```\nBetter:\n```python\nx = 2\n```\n```text\nout\n```"
    assert extract_code(text) == "x = 2"
    assert extract_code("```\nprint(3)\n```") == "print(3)"
    assert extract_code("no fences\nprint(1)") == "no fences\nprint(1)"
    assert extract_code("```python\nprint(1)\n") == "print(1)"  # cut off by the token budget


def test_keep_definitions_drops_top_level_calls():
    code = "import math\nX = 3\ndef f():\n    return X\nprint(f())\nassert f() == 4\nn = int(input())\nif __name__ == '__main__':\n    f()\n"
    kept = keep_definitions(code)
    assert "import math" in kept and "X = 3" in kept and "def f" in kept
    assert (
        "print(f())" not in kept and "assert" not in kept and "input" not in kept and "__main__" not in kept
    )


def test_function_completion_with_a_full_function():
    resp = "Here:\n```python\ndef add(a, b):\n    return a + b\n\nprint(add(1, 2))\n```"
    prog = sanitize_function_completion(resp, PROMPT, "add")
    ns: dict = {}
    exec(prog, ns)  # the sanitised program only defines things
    assert ns["add"](2, 3) == 5 and "List" in ns and ns["helper"](7) == 7  # prompt imports + helpers kept


def test_function_completion_with_a_body_only():
    prog = sanitize_function_completion("    return a + b\n", PROMPT, "add")
    ns: dict = {}
    exec(prog, ns)
    assert ns["add"](2, 3) == 5
