"""The shipped benchmark files, the loader's errors, and the re-runnable normaliser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evaluators.math.benchmarks import (
    PAPER_BENCHMARKS,
    BenchmarkDataError,
    canonical_name,
    load_benchmark,
    math_data_dir,
)
from evaluators.math.prepare_data import DEFAULT_RAW, prepare

EXPECTED_ROWS = {"aime24": 30, "aime25": 30, "amc23": 40, "math500": 500, "minerva": 272, "olympiad": 675}


@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
def test_shipped_files_follow_the_schema(name):
    problems = load_benchmark(name)
    assert len(problems) == EXPECTED_ROWS[name]
    assert len({p.id for p in problems}) == len(problems)
    assert all(p.problem and p.answer and p.source for p in problems)
    assert not [p.answer for p in problems if re.search(r"(?<!\\)\$", p.answer)]  # no math delimiters


def test_known_answers_after_normalisation():
    amc = {p.id: p.answer for p in load_benchmark("amc23")}
    assert amc["amc23-0"] == "27"  # raw 27.0
    minerva = {p.id: p.answer for p in load_benchmark("minerva")}
    assert minerva["minerva-0"] == "1.6"
    olymp = {p.id: p.answer for p in load_benchmark("olympiad")}
    assert olymp["olympiad-1606"] == "2"
    math500 = load_benchmark("math500", limit=1)[0]
    assert math500.answer == "\\left( 3, \\frac{\\pi}{2} \\right)"


def test_aliases_and_unknown_names():
    assert canonical_name("OlympiadBench") == "olympiad"
    assert canonical_name("minerva_math") == "minerva"
    with pytest.raises(KeyError, match="valid:"):
        canonical_name("gsm8k")


def test_limit():
    assert [p.id for p in load_benchmark("aime24", limit=2)] == [p.id for p in load_benchmark("aime24")[:2]]


def test_missing_file_error_names_the_file(tmp_path):
    with pytest.raises(BenchmarkDataError, match=r"not found: .*aime24\.jsonl"):
        load_benchmark("aime24", root=tmp_path)


@pytest.mark.parametrize(
    "content,match",
    [
        ('{"id": "a", "problem": "p", "answer": "1"}\n', r"aime24\.jsonl:1: missing field\(s\) \['source'\]"),
        (
            '{"id": "a", "problem": "p", "answer": 1, "source": "s"}\n',
            r":1: field 'answer' must be a non-empty string",
        ),
        (
            '{"id": "a", "problem": "p", "answer": "1", "source": "s"}\n{oops\n',
            r"aime24\.jsonl:2: not valid JSON",
        ),
        ('{"id": "a", "problem": "p", "answer": "1", "source": "s"}\n' * 2, r":2: duplicate id 'a'"),
        ("\n", r"empty"),
    ],
)
def test_malformed_file_errors(tmp_path, content, match):
    (tmp_path / "aime24.jsonl").write_text(content)
    with pytest.raises(BenchmarkDataError, match=match):
        load_benchmark("aime24", root=tmp_path)


_RAW_MISSING = not Path(DEFAULT_RAW).is_dir()


def _check_reproduced(tmp_path, names):
    counts = prepare(DEFAULT_RAW, tmp_path, names)
    assert counts == {n: EXPECTED_ROWS[n] for n in names}
    for name in names:
        assert (tmp_path / f"{name}.jsonl").read_bytes() == (math_data_dir() / f"{name}.jsonl").read_bytes()
        first = json.loads((tmp_path / f"{name}.jsonl").read_text().splitlines()[0])
        assert list(first) == ["id", "problem", "answer", "source"]


@pytest.mark.skipif(_RAW_MISSING, reason="raw data folder ../shared/data not present")
def test_prepare_data_reproduces_the_shipped_files(tmp_path):
    _check_reproduced(tmp_path, [n for n in PAPER_BENCHMARKS if n != "minerva"])


@pytest.mark.slow
@pytest.mark.skipif(_RAW_MISSING, reason="raw data folder ../shared/data not present")
def test_prepare_data_reproduces_minerva(tmp_path):
    _check_reproduced(tmp_path, ["minerva"])  # runs the grader on 272 answer pairs


def test_minerva_answers_answer_the_asked_subproblem():
    minerva = {p.id: p.answer for p in load_benchmark("minerva")}
    assert minerva["minerva-57"] == "0.53"  # doubling time, not the 4.4e7 ferrets of sub-problem 0
    assert minerva["minerva-151"] == "566"  # maximum wavelength, not the 188 m minimum
    assert minerva["minerva-10"] == "3.83 \\times 10^{35}"  # boxed 3.83e35, written as rLLM's LaTeX
    assert minerva["minerva-5"] == "\\arcsin{\\frac{1}{1.3}}"  # boxed np.arcsin(10/13)


def test_python_isms_become_latex():
    from evaluators.math.prepare_data import _python_to_latex

    assert _python_to_latex("np.arcsin(10/13)") == "\\arcsin(10/13)"
    assert _python_to_latex("-1./3") == "-1/3"
    assert _python_to_latex("2.5") == "2.5"
