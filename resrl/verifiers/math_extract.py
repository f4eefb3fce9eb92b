"""Final-answer extraction from a model response: the last ``\\boxed{...}`` (or ``\\fbox{...}``), with
nested braces, else the text after the last "final answer is", else the last "Answer: ..." line (the form the
DAPO-Math prompt asks for, and what a policy trained on it writes).

Pure string scanning, linear in the response length (safe on 100k-character inputs).
"""

from __future__ import annotations

import re

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\b")
# "The final answer is $\frac{1}{2}$." / "Final Answer: 42" — the text after the last such phrase.
_FINAL_RE = re.compile(r"final\s+answer\s*(?:is|:)\s*:?", re.IGNORECASE)
# DAPO's answer line: "Answer: 34" (its scorer reads the last match in the last 300 characters)
_ANSWER_LINE_RE = re.compile(r"(?i)answer\s*:\s*([^\n]+)")
#: Longest fallback answer kept (a "final answer is" sentence runs to the end of its line).
MAX_FALLBACK_CHARS = 300


def _braced(text: str, open_pos: int) -> str | None:
    """Content of the brace group opening at ``text[open_pos] == "{"``; ``None`` if it never closes.

    A backslash escapes the next character, so ``\\{`` and ``\\}`` (literal braces) do not count.
    """
    depth = 0
    i = open_pos
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[open_pos + 1 : i]
        i += 1
    return None


def _closing_braces(text: str) -> dict[int, int]:
    """``{open position: position of its closing brace}`` for every brace group of ``text`` that closes, in one
    linear pass (escapes as in :func:`_braced`, which gives the same group for a ``{`` that is not escaped)."""
    stack: list[int] = []
    closing: dict[int, int] = {}
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            closing[stack.pop()] = i
        i += 1
    return closing


def _box_content(text: str, m: re.Match, closing: dict[int, int] | None = None) -> str | None:
    """Content of the box command matched by ``m``: ``\\boxed{...}`` or the ``\\boxed 5`` short form.
    ``closing`` (from :func:`_closing_braces`) avoids rescanning the text for every box."""
    j = m.end()
    n = len(text)
    while j < n and text[j] in " \t":
        j += 1
    if j < n and text[j] == "{":
        if closing is not None:
            end = closing.get(j)
            return None if end is None else text[j + 1 : end]
        return _braced(text, j)
    if j > m.end():  # "\boxed 5": one token up to whitespace, "$" or end
        k = j
        while k < n and not text[k].isspace() and text[k] != "$":
            k += 1
        return text[j:k] or None
    return None


def last_boxed_content(text: str) -> str | None:
    """Content of the last complete ``\\boxed{}``/``\\fbox{}`` in ``text`` (nested braces kept), else ``None``.

    An unterminated last box (response cut at the token limit) is skipped in favour of an earlier one.
    """
    matches = list(_BOX_RE.finditer(text))
    # one pass for all groups: scanning from every unterminated box to the end would be quadratic
    # (a 100k-character response of repeated "\\boxed{" took minutes)
    closing = _closing_braces(text) if len(matches) > 1 else None
    for m in reversed(matches):
        content = _box_content(text, m, closing)
        if content is not None and content.strip():
            return content.strip()
    return None


def _strip_math_delimiters(s: str) -> str:
    s = s.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
            return s[len(left) : len(s) - len(right)].strip()
    return s


def final_answer_phrase(text: str) -> str | None:
    """Text after the last "final answer is"/"final answer:", to the end of that line, without math
    delimiters or a closing full stop; ``None`` if the phrase is absent or nothing follows it."""
    matches = list(_FINAL_RE.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    rest = text[last.end() :].lstrip()
    line = rest.split("\n", 1)[0].strip()
    if not line:
        return None
    boxed = last_boxed_content(line)
    if boxed is not None:
        return boxed
    line = line[:MAX_FALLBACK_CHARS].strip()
    # "... is $42$. I hope it is correct." -> "$42$"
    if line.startswith("$"):
        end = line.find("$", 1) if not line.startswith("$$") else line.find("$$", 2)
        if end > 0:
            line = line[: end + (2 if line.startswith("$$") else 1)]
    else:
        line = re.split(r"(?<!\d)\.(?:\s|$)|\.$", line, maxsplit=1)[0]
    line = _strip_math_delimiters(line).rstrip(".").strip()
    return line or None


def answer_line(text: str) -> str | None:
    """The text of the last "Answer: ..." line within the last ``MAX_FALLBACK_CHARS`` characters (DAPO-Math's
    answer format), without math delimiters or a closing full stop; ``None`` if there is none."""
    matches = _ANSWER_LINE_RE.findall(text[-MAX_FALLBACK_CHARS:])
    if not matches:
        return None
    line = matches[-1].strip()
    boxed = last_boxed_content(line)
    if boxed is not None:
        return boxed
    line = _strip_math_delimiters(line.rstrip(".").strip()).strip()
    return line or None


def extract_answer(response: str) -> str | None:
    """The final answer of ``response``: the last ``\\boxed{}``/``\\fbox{}`` content, else the
    "final answer is ..." fallback, else the last "Answer: ..." line, else ``None``."""
    if not isinstance(response, str) or not response:
        return None
    boxed = last_boxed_content(response)
    if boxed is not None:
        return boxed
    return final_answer_phrase(response) or answer_line(response)
