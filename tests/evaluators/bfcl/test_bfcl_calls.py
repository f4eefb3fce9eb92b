"""The call parser: BFCL's Python-list format, chat-template ``<tool_call>`` JSON, reasoning, malformed and unsafe
replies. Pure Python (no bfcl_eval needed)."""

from __future__ import annotations

import ast

import pytest

from evaluators.bfcl.calls import Call, parse_reply, strip_reasoning


def sources(text: str) -> list[str]:
    return [c.source() for c in parse_reply(text).calls]


def test_python_list_format_as_bfcl_writes_it():
    p = parse_reply("[cd(folder='document'), mkdir(dir_name='temp'), ls(a=True)]")
    assert p.format == "python" and not p.errors
    assert [c.name for c in p.calls] == ["cd", "mkdir", "ls"]
    assert p.calls[0].kwargs == {"folder": "document"} and p.calls[2].kwargs == {"a": True}
    assert sources("[cd(folder='document'), ls(a=True)]") == ["cd(folder='document')", "ls(a=True)"]


def test_python_format_without_brackets_backticks_and_values():
    # BFCL strips backticks/newlines/spaces and adds the brackets
    assert sources("`\ntail(file_name='log.txt', lines=20)\n`") == ["tail(file_name='log.txt', lines=20)"]
    c = parse_reply("[f(a=-3, b=2.5, c=None, d=[1, 'x'], e={'k': (1, 2)}, g=2*3+1, h=10/4)]").calls[0]
    assert c.kwargs == {"a": -3, "b": 2.5, "c": None, "d": [1, "x"], "e": {"k": (1, 2)}, "g": 7, "h": 2.5}


def test_positional_arguments_are_kept_as_in_the_ground_truth():
    # the ground truth of multi_turn_miss_func_0 turn 3 is "sort('final_report.pdf')"
    c = parse_reply("[sort('final_report.pdf')]").calls[0]
    assert c.args == ("final_report.pdf",) and c.source() == "sort('final_report.pdf')"


def test_bfcl_quirks_bare_name_and_argument_call_become_strings():
    c = parse_reply("[cd(folder=documents, x=g())]").calls[0]
    assert c.kwargs == {"folder": "documents", "x": "g()"}


def test_rendered_calls_contain_only_literals():
    # whatever the reply, the rendered source is a plain name called with literal arguments
    p = parse_reply("[f(x=__import__('os').system('rm -rf /'), y=open('/etc/passwd'))]")
    (c,) = p.calls
    tree = ast.parse(c.source(), mode="eval").body
    assert isinstance(tree.func, ast.Name) and tree.func.id == "f"
    for kw in tree.keywords:
        ast.literal_eval(kw.value)  # raises if not a literal
    assert c.kwargs["x"] == "__import__('os').system('rm -rf /')"


@pytest.mark.parametrize(
    "text",
    [
        "[f(x=lambda: 1)]",
        "[f(x=[i for i in range(3)])]",
        "[f(**kw)]",
        "[f(*a)]",
        "[f(x=g(y=1))]",
        "[f(x='a' + 1)]",
        "[f(x=1/0)]",
        "[(lambda: 1)()]",
    ],
)
def test_non_literal_arguments_are_rejected(text):
    p = parse_reply(text)
    assert p.calls == [] and p.errors and p.malformed


def test_tool_call_format_qwen_hermes():
    text = (
        '<tool_call>\n{"name": "cd", "arguments": {"folder": "document"}}\n</tool_call>\n'
        '<tool_call>{"name": "mv", "arguments": "{\\"source\\": \\"a.pdf\\", \\"destination\\": \\"temp\\"}"}'
        "</tool_call>"
    )
    p = parse_reply(text)
    assert p.format == "tool_call" and not p.errors
    assert [c.source() for c in p.calls] == [
        "cd(folder='document')",
        "mv(source='a.pdf', destination='temp')",
    ]


def test_tool_call_bad_block_is_skipped_and_flagged():
    text = (
        '<tool_call>{"name": "cd", "arguments": {"folder": "x"}}</tool_call>'
        '<tool_call>{"name": cd}</tool_call><tool_call>{"name": "rm -rf", "arguments": {}}</tool_call>'
    )
    p = parse_reply(text)
    assert sources(text) == ["cd(folder='x')"]
    assert len(p.errors) == 2 and p.malformed


def test_reasoning_is_ignored():
    assert strip_reasoning("<think>call [rm(x=1)]?</think>\n\n[ls(a=True)]") == "\n\n[ls(a=True)]"
    assert sources("<think>maybe <tool_call>{}</tool_call></think>[ls()]") == ["ls()"]


@pytest.mark.parametrize("text", ["", "[]", "I have completed the task.", "Done"])
def test_replies_without_calls_are_not_malformed(text):
    p = parse_reply(text)
    assert p.calls == [] and not p.malformed


def test_broken_call_list_is_malformed():
    p = parse_reply("[cd(folder='x'), ls(")
    assert p.calls == [] and p.malformed


def test_source_round_trip():
    for src in [
        "cd(folder='document')",
        "grep(file_name='final_report.pdf', pattern='budget analysis')",
        "f(a=[1, 2], b={'x': 'y'})",
        "sort('final_report.pdf')",
    ]:
        (c,) = parse_reply(src).calls
        assert c.source() == src
        assert parse_reply(c.source()).calls == [c]
    assert Call("f", (1,), {"k": "v"}).source() == "f(1, k='v')"
