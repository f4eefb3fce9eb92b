"""The exact math grader: final-answer extraction + math-verify equivalence under a time limit.

The same function is the evaluator's grader and the trainer's reward (``is_correct`` -> 1.0/0.0).

Time limits. math-verify's own limits use ``signal.alarm`` (integer seconds, main thread only, and its
``TimeoutException`` is caught inside the library), so it is always called here with
``parsing_timeout=None, timeout_seconds=None`` and the limit is ours:

- main thread (the trainer's many small calls): ``signal.setitimer`` raises :class:`GradingTimeout`, a
  ``BaseException`` so that the library's ``except Exception`` blocks cannot swallow it;
- answers whose parsing may run long inside one C call (numeric power towers, huge factorials; a
  signal handler runs only when that call returns) and every call from a non-main thread go to a
  worker process that is killed at the limit (:class:`resrl.verifiers.math_grading_pool.GradingPool`);
- answers longer than :data:`MAX_ANSWER_CHARS` or nested deeper than :data:`MAX_NESTING` are wrong
  without parsing (no benchmark answer comes close to either bound).

Any time-out, crash or parse failure grades the answer as incorrect.
"""

from __future__ import annotations

import functools
import logging
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from resrl.verifiers.math_extract import extract_answer, last_boxed_content

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "GradingTimeout",
    "answers_equivalent",
    "check_answer",
    "extract_answer",
    "is_correct",
    "last_boxed_content",
    "normalize_answer",
    "reward",
]

#: Time limit of one (prediction, gold) check, in seconds.
DEFAULT_TIMEOUT_S = 5.0
#: Predictions longer than this (after extraction) are graded wrong without parsing.
MAX_ANSWER_CHARS = 1500
#: Predictions with deeper bracket nesting than this are graded wrong without parsing.
MAX_NESTING = 40

# math-verify logs a warning for every disabled timeout and every parse failure: keep the run quiet.
logging.getLogger("math_verify").setLevel(logging.ERROR)
logging.getLogger("latex2sympy2_extended").setLevel(logging.ERROR)


class GradingTimeout(BaseException):
    """Raised by the main-thread time limit (a BaseException, so library ``except Exception`` misses it)."""


# ------------------------------------------------------------------------------------------------------
# Normalisation (before math-verify)
# ------------------------------------------------------------------------------------------------------
_WRAPPER_RE = re.compile(r"^\\(?:text|textbf|textrm|mathrm|mbox|mathbf|textit)\s*\{(.*)\}$", re.DOTALL)
_SCI_RE = re.compile(r"(?<![\w\\.])(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")
_THIN_SPACE_DIGITS_RE = re.compile(r"(?<=\d)(?:\\,|\\!|\\ |~|\{,\}|,\s*\\!|,\s*\\,)\s*(?=\d{3}(?!\d))")
_THIN_SPACE_RE = re.compile(r"\\[,!;:]")
_ARC_UNITS_RE = re.compile(r"(\d)\s*\^\s*\{?\s*\\prime(?:\s*\\prime)?\s*\}?\s*$")
_PERCENT_RE = re.compile(r"\\?%")
_SUBSCRIPT_RE = re.compile(r"_([A-Za-z0-9])")
_PRIME_RE = re.compile(r"([A-Za-z])((?:\s*'|\s*\^\s*\{(?:\s*\\prime)+\s*\}|\s*\^\s*\\prime)+)")
_CHOICE_RE = re.compile(r"^\(?([A-Ea-e])\)?$")
_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z\s\-']*$")
_UNIT_WORDS = (
    "cm|mm|km|m|meters?|metres?|inches|inch|in|feet|foot|ft|yards?|yd|miles?|mi|mph|kph|degrees?|deg|"
    "cents?|dollars?|units?|square units|sq units|seconds?|sec|s|minutes?|min|hours?|hrs?|h|days?|"
    "weeks?|years?|yrs?|kg|g|grams?|pounds?|lbs?|liters?|litres?|l|ml|people|students|ways|points"
)
_TRAILING_UNIT_RE = re.compile(
    rf"^(.*?\d\}}?)\s*(?:\\(?:text|mbox|mathrm|textrm)\s*\{{\s*[^{{}}]*\}}|(?:{_UNIT_WORDS})\b)"
    r"(?:\s*\^\s*\{?-?\d+\}?)?\s*$",
    re.IGNORECASE,
)


def _unwrap_text(s: str) -> str:
    """``\\text{Evelyn}`` -> ``Evelyn`` (repeatedly, only when the wrapper spans the whole string)."""
    s = s.strip()
    while True:
        m = _WRAPPER_RE.match(s)
        if not m or m.group(1).count("{") != m.group(1).count("}"):
            return s
        s = m.group(1).strip()


def normalize_answer(s: str) -> str:
    """Light, meaning-preserving clean-up of an answer string before math-verify parses it.

    Removes math delimiters and a final full stop, digit-group thin spaces (``10,\\!080`` -> ``10080``),
    turns ``3.8e5`` into ``3.8\\times 10^{5}``, drops arc-minute/second marks after a number and trailing
    units (``5\\text{ cm}``, ``10 inches``).
    """
    s = s.strip().rstrip(".").strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
            s = s[len(left) : len(s) - len(right)].strip()
    s = s.rstrip(".").strip()
    s = _THIN_SPACE_DIGITS_RE.sub("", s)
    s = _THIN_SPACE_RE.sub(" ", s)
    s = _SCI_RE.sub(r"\1\\times 10^{\2}", s)
    s = _ARC_UNITS_RE.sub(r"\1", s)
    s = _SUBSCRIPT_RE.sub(r"_{\1}", s)
    for _ in range(3):
        m = _TRAILING_UNIT_RE.match(s)
        if not m:
            break
        s = m.group(1).strip()
    return s.strip()


def _text_key(s: str) -> str | None:
    """A comparison key when ``s`` is a text answer (a word or phrase, or a choice letter), else ``None``.

    A text answer is a ``\\text{}`` wrapper around the whole answer, a choice ``(A)``..``(E)``, or a
    letters-only word of four or more letters (``east``, ``even``); single letters and short letter
    strings stay algebra (``x``, ``ab``).
    """
    raw = s.strip()
    inner = _unwrap_text(raw)
    wrapped = inner != raw
    choice = _CHOICE_RE.match(inner)
    if choice and (wrapped or inner.startswith("(")):
        return "choice:" + choice.group(1).lower()
    if _WORD_RE.match(inner) and (wrapped or len(inner.replace(" ", "")) >= 4):
        return "text:" + re.sub(r"[^a-z]", "", inner.lower())
    return None


# ------------------------------------------------------------------------------------------------------
# Equivalence (untimed core; callers bound its time)
# ------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8192)
def _parse(expr: str, units: bool = True) -> tuple:
    """math-verify parse of one answer (boxed, so the whole string is the target). Cached by string.

    ``units=False`` turns off math-verify's unit stripping, which also eats trailing variables that look
    like units (``\\frac{1}{m}t`` would parse as ``1/m``).
    """
    from latex2sympy2_extended.latex2sympy2 import NormalizationConfig
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    latex = LatexExtractionConfig(boxed_match_priority=0)
    if not units:
        latex = LatexExtractionConfig(
            boxed_match_priority=0,
            normalization_config=NormalizationConfig(
                basic_latex=True,
                units=False,
                malformed_operators=True,
                nits=True,
                boxed="all",
                equations=False,
            ),
        )
    return tuple(
        parse(
            "\\boxed{" + expr + "}", extraction_config=[latex, ExprExtractionConfig()], parsing_timeout=None
        )
    )


_LETTER_RE = re.compile(r"(?<!\\)\b[A-Za-z]")  # a letter that does not start a LaTeX command


def _verify(gold: str, pred: str) -> bool:
    """math-verify equivalence; answers with letters are also compared without unit stripping."""
    from math_verify import verify

    passes = (True, False) if (_LETTER_RE.search(gold) or _LETTER_RE.search(pred)) else (True,)
    for units in passes:
        g, p = _parse(gold, units), _parse(pred, units)
        if g and p and verify(list(g), list(p), timeout_seconds=None):
            return True
    return False


def _percent_variants(s: str) -> list[str]:
    """``50\\%`` -> ``["50", "\\frac{50}{100}"]``; strings without a percent sign -> ``[s]``."""
    if not _PERCENT_RE.search(s):
        return [s]
    bare = _PERCENT_RE.sub("", s).strip()
    return [bare, "\\frac{" + bare + "}{100}"]


def _count_primes(marks: str) -> int:
    return marks.count("'") + marks.count("\\prime")


def answers_equivalent(pred: str, gold: str) -> bool:
    """Whether the extracted answer ``pred`` equals the reference ``gold`` (no time limit: see ``check_answer``).

    Text answers (words, choice letters) compare as lower-case letters; everything else goes through
    math-verify (numbers, fractions, radicals, intervals, sets/tuples, matrices, equations, units,
    percentages both as ``50\\%`` = ``50`` and = ``0.5``).
    """
    if not pred or not gold:
        return False
    p, g = normalize_answer(pred), normalize_answer(gold)
    if not p or not g:
        return False
    if p.replace(" ", "") == g.replace(" ", ""):
        return True
    gold_text = _text_key(g)
    if gold_text is not None:
        if gold_text.startswith("choice:"):  # a bare letter "C" answers choice "(C)"
            m = _CHOICE_RE.match(_unwrap_text(p))
            return m is not None and "choice:" + m.group(1).lower() == gold_text
        return _text_key(p) == gold_text
    # derivatives: y' and y^{\prime} become one symbol y_{prime} (math-verify drops a bare ')
    g = _PRIME_RE.sub(lambda m: m.group(1) + "_{" + "prime" * _count_primes(m.group(2)) + "}", g)
    p = _PRIME_RE.sub(lambda m: m.group(1) + "_{" + "prime" * _count_primes(m.group(2)) + "}", p)
    if p.replace(" ", "") == g.replace(" ", ""):
        return True
    for gv in _percent_variants(g):
        for pv in _percent_variants(p):
            if _verify(gv, pv):
                return True
    return False


# ------------------------------------------------------------------------------------------------------
# Time limits
# ------------------------------------------------------------------------------------------------------
_EXPLOSIVE_RE = re.compile(
    r"\^\s*\{[^{}]*\^"  # a power inside an exponent: 10^{10^{10}}
    r"|\^\s*\{?\s*\d{5,}"  # a five-digit (or longer) exponent
    r"|\d{3,}\s*!|\\(?:factorial|Gamma)"  # large factorials
    r"|\*\*"
)


def _nesting_depth(s: str) -> int:
    depth = best = 0
    for c in s:
        if c in "{([":
            depth += 1
            best = max(best, depth)
        elif c in "})]":
            depth -= 1
    return best


def _obviously_wrong(pred: str) -> bool:
    return len(pred) > MAX_ANSWER_CHARS or _nesting_depth(pred) > MAX_NESTING


def needs_isolation(pred: str) -> bool:
    """True for predictions whose parsing may run long inside C code (big powers, factorials): a signal
    reaches Python only when that C call returns, so these are graded in a killable worker process."""
    return bool(_EXPLOSIVE_RE.search(pred))


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`GradingTimeout` in the main thread after ``seconds`` (nests: restores the old timer)."""

    def _handler(signum, frame):  # noqa: ARG001
        raise GradingTimeout(f"answer check exceeded {seconds:g} s")

    old_handler = signal.signal(signal.SIGALRM, _handler)
    old_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            signal.setitimer(signal.ITIMER_REAL, old_delay)


def check_in_process(pred: str, gold: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """``answers_equivalent`` under a SIGALRM limit; must run in the main thread. Timeout -> False."""
    try:
        with _alarm(timeout_s):
            return answers_equivalent(pred, gold)
    except GradingTimeout:
        return False
    except Exception:  # noqa: BLE001 - a grader crash (incl. RecursionError) is a wrong answer, not a failed run
        return False


def check_answer(pred: str | None, gold: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Grade an already extracted answer against the reference, within ``timeout_s`` seconds."""
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if pred is None or not isinstance(pred, str):
        return False
    gold = str(gold)
    if _obviously_wrong(pred):
        return False
    if _in_main_thread() and not needs_isolation(pred):
        return check_in_process(pred, gold, timeout_s)
    from resrl.verifiers.math_grading_pool import shared_pool

    return shared_pool().check([pred], [gold], timeout_s=timeout_s)[0]


def is_correct(response: str, answer: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Whether the full model output ``response`` ends in an answer equivalent to ``answer``."""
    return check_answer(extract_answer(response), answer, timeout_s)


def reward(response: str, answer: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> float:
    """Training reward: 1.0 for a correct final answer, else 0.0 (the same grader as evaluation)."""
    return 1.0 if is_correct(response, answer, timeout_s) else 0.0
