"""The DAPO-Math verifier: an ``Answer:`` line, Minerva-style normalisation, exact string match.

Source of the rules (facts, re-implemented here, no code carried over): veRL's
``verl/utils/reward_score/math_dapo.py`` (``compute_score`` with its defaults), the scorer the ResRL release
(github.com/1229095296/ResRL @ 58d7d5d, a veRL 0.5 fork) trains DAPO-Math-17k with; the normalisation there is
the Minerva one adapted from lm-evaluation-harness' ``hendrycks_math``. The release maps correct/wrong to
+1/-1; here :func:`is_correct` returns the correctness and the task maps it to its scores
(``resrl.tasks.base.Task.reward``).

- Window: only the last :data:`WINDOW_CHARS` characters of the response are read.
- Extraction: the last match of :data:`ANSWER_PATTERN` (``(?i)Answer\\s*:\\s*([^\\n]+)``, non-overlapping,
  left to right) in that window; no match -> no answer -> wrong (the release has no ``\\boxed{}`` fallback;
  veRL >= 0.6 added one, which this verifier deliberately does not follow).
- Normalisation (:func:`normalize_final_answer`, applied to the answer and to the ground truth): keep the text
  after the last ``=``; apply :data:`SUBSTITUTIONS` then :data:`REMOVED_EXPRESSIONS` (plain replacements, in
  order); per line, reduce a line holding two ``$`` to ``$<text between the first two>$``; unwrap every
  ``\\text{..}``, ``\\textbf{..}``, ``\\overline{..}`` (up to the first ``}`` on the same line) and one
  ``\\boxed{..}`` per line (up to the last ``}`` of that line); expand ``\\fracab`` -> ``\\frac{a}{b}`` and
  ``\\sqrta`` -> ``\\sqrt{a}``; drop every ``$``; drop commas when what is left is all digits; strip.
- Comparison: exact string equality of the two normalised strings (no symbolic equivalence).

Pure standard library; every step is linear in its input, and the response is cut to the window first.
"""

from __future__ import annotations

import re

#: Characters at the end of the response that are searched for the answer (the release: 300).
WINDOW_CHARS = 300
#: The answer line: case-insensitive "Answer", optional spaces, ":", optional spaces, the rest of the line.
ANSWER_PATTERN = re.compile(r"(?i)Answer\s*:\s*([^\n]+)")

#: (before, after) plain-text replacements, applied in this order (data from veRL's math_dapo.py).
SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("an ", ""),
    ("a ", ""),
    (".$", "$"),
    ("\\$", ""),
    ("\\ ", ""),
    (" ", ""),
    ("mbox", "text"),
    (",\\text{and}", ","),
    ("\\text{and}", ","),
    ("\\text{m}", "\\text{}"),
)

#: Substrings deleted after the substitutions, in this order (data from veRL's math_dapo.py).
REMOVED_EXPRESSIONS: tuple[str, ...] = (
    "square",
    "ways",
    "integers",
    "dollars",
    "mph",
    "inches",
    "hours",
    "km",
    "units",
    "\\ldots",
    "sue",
    "points",
    "feet",
    "minutes",
    "digits",
    "cents",
    "degrees",
    "cm",
    "gm",
    "pounds",
    "meters",
    "meals",
    "edges",
    "students",
    "childrentickets",
    "multiples",
    "\\text{s}",
    "\\text{.}",
    "\\text{\ns}",
    "\\text{}^2",
    "\\text{}^3",
    "\\text{\n}",
    "\\text{}",
    "\\mathrm{th}",
    "^\\circ",
    "^{\\circ}",
    "\\;",
    ",\\!",
    "{,}",
    '"',
    "\\dots",
)


def extract_answer(response: str) -> str | None:
    """The raw text of the last ``Answer: ...`` line in the last ``WINDOW_CHARS`` characters, or None."""
    last = None
    for match in ANSWER_PATTERN.finditer(response[-WINDOW_CHARS:]):
        last = match
    return None if last is None else last.group(1)


def _first_dollar_pair(line: str) -> str:
    """A line with two ``$`` becomes ``$`` + the text between the first two + ``$``; other lines are kept."""
    i = line.find("$")
    j = line.find("$", i + 1) if i >= 0 else -1
    return line if j < 0 else "$" + line[i + 1 : j] + "$"


def _unwrap_first_brace(line: str, head: str) -> str:
    """Every ``head`` + content + the next ``}`` becomes the content, scanning left to right (no nesting)."""
    out, pos = [], 0
    while True:
        i = line.find(head, pos)
        if i < 0:
            break
        j = line.find("}", i + len(head))
        if j < 0:
            break
        out += [line[pos:i], line[i + len(head) : j]]
        pos = j + 1
    out.append(line[pos:])
    return "".join(out)


def _unwrap_last_brace(line: str, head: str) -> str:
    """The first ``head`` + content + the line's last ``}`` becomes the content (greedy, once per line)."""
    i = line.find(head)
    j = line.rfind("}")
    if i < 0 or j < i + len(head):
        return line
    return line[:i] + line[i + len(head) : j] + line[j + 1 :]


def _per_line(text: str, fn, *args) -> str:
    return "\n".join(fn(line, *args) for line in text.split("\n"))


def _expand_shorthand(text: str, name: str, args: int) -> str:
    """``<name>ab`` -> ``<name>{a}{b}`` (``args=2``) or ``<name>a`` -> ``<name>{a}`` (``args=1``) wherever the
    first argument is not ``{``; the second argument (any character but a newline) must exist."""
    out, pos = [], 0
    while True:
        i = text.find(name, pos)
        if i < 0:
            break
        k = i + len(name)
        a = text[k : k + 1]
        b = text[k + 1 : k + 2] if args == 2 else ""
        if a in ("", "{") or (args == 2 and b in ("", "\n")):
            out.append(text[pos : i + 1])
            pos = i + 1
            continue
        out += [text[pos:k], "{", a, "}"] + (["{", b, "}"] if args == 2 else [])
        pos = k + args
    out.append(text[pos:])
    return "".join(out)


def normalize_final_answer(text: str) -> str:
    """The Minerva/DAPO normal form of an answer string (see the module docstring for the steps)."""
    s = text.rpartition("=")[2]
    for before, after in SUBSTITUTIONS:
        s = s.replace(before, after)
    for expr in REMOVED_EXPRESSIONS:
        s = s.replace(expr, "")
    s = _per_line(s, _first_dollar_pair)
    for head in ("\\text{", "\\textbf{", "\\overline{"):
        s = _per_line(s, _unwrap_first_brace, head)
    s = _per_line(s, _unwrap_last_brace, "\\boxed{")
    s = _expand_shorthand(s, "frac", 2)
    s = _expand_shorthand(s, "sqrt", 1)
    s = s.replace("$", "")
    if s.replace(",", "").isdigit():
        s = s.replace(",", "")
    return s.strip()


def is_correct(response: str, ground_truth: str) -> bool:
    """True when the response's last ``Answer:`` line (last ``WINDOW_CHARS`` characters) normalises to the same
    string as ``ground_truth``; no answer line is wrong."""
    answer = extract_answer(response)
    if answer is None:
        return False
    return normalize_final_answer(answer) == normalize_final_answer(str(ground_truth))
