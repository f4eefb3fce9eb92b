"""Benchmark loaders and graders on the shipped data: HumanEval+, LiveCodeBench, Codeforces."""

from __future__ import annotations

import json

import pytest

from evaluators.code import codeforces, humaneval, livecodebench


# ------------------------------------------------------------------------------------------------------------
# HumanEval+
# ------------------------------------------------------------------------------------------------------------
def test_humaneval_data():
    problems = humaneval.load_problems()
    assert len(problems) == 164
    assert problems[0].task_id == "HumanEval/0" and problems[0].entry_point == "has_close_elements"
    assert sum(len(p.plus_input) for p in problems) == 122_683  # counted once from the file


def test_output_matches_follows_evalplus():
    m = humaneval.output_matches
    assert m([1, 2], [1, 2], 0) and not m((1, 2), [1, 2], 0)  # exact, type-sensitive for containers
    assert m(0.1 + 0.2, 0.3, 0)  # a float expected value gets atol 1e-6
    assert not m(0.3001, 0.3, 0)
    assert m([0.1 + 0.2, 1.0], [0.3, 1.0], 0)
    assert not m([0.3, 1.0], (0.3, 1.0), 1e-6)  # tolerance needs the same type
    assert m(True, 1, 0)  # Python equality, as evalplus compares with ==
    # find_zero: any root is right: poly([-6, 11, -6, 1], x) = (x-1)(x-2)(x-3).
    assert m(2.0, 1.0, 1e-6, "find_zero", [[-6, 11, -6, 1]])
    assert not m(2.5, 1.0, 1e-6, "find_zero", [[-6, 11, -6, 1]])


@pytest.fixture(scope="module")
def he_small(tmp_path_factory):
    problems = [
        p for p in humaneval.load_problems() if p.task_id in ("HumanEval/0", "HumanEval/2", "HumanEval/32")
    ]
    cache = tmp_path_factory.mktemp("he") / "gt.json"
    gt = humaneval.ground_truth(problems, workers=2, cache=cache)
    return {p.task_id: p for p in problems}, gt, cache


def test_ground_truth_is_cached_and_complete(he_small):
    problems, gt, cache = he_small
    assert cache.is_file()
    stored = json.loads(cache.read_text())
    assert set(stored) == {f"{t}/{w}" for t in problems for w in ("base", "plus")}
    for tid, p in problems.items():
        assert len(gt[tid]["base"]) == len(p.base_input) and len(gt[tid]["plus"]) == len(p.plus_input)
    # has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) is True (3.9 and 4.0): the first base test
    assert gt["HumanEval/0"]["base"][0] is True


def test_canonical_solutions_pass_and_wrong_ones_fail(he_small):
    problems, gt, _ = he_small
    for tid, p in problems.items():
        res = humaneval.grade_program(p.reference_program, p, gt[tid])
        assert res["correct"] and res["correct_base"], (tid, res)
    p = problems["HumanEval/2"]  # truncate_number(x) = x - int(x)
    wrong = humaneval.grade_program("def truncate_number(number):\n    return 0.5\n", p, gt[p.task_id])
    assert wrong["base_status"] == "failed" and not wrong["correct"]
    # Right on the base inputs (3.5, 1.33, 123.456), wrong on the plus inputs of 1000 and above.
    assert max(x for (x,) in p.base_input) < 1000 <= max(x for (x,) in p.plus_input)
    plus_bug = "def truncate_number(number):\n    return number - int(number) if number < 1000 else 0.0\n"
    res = humaneval.grade_program(plus_bug, p, gt[p.task_id])
    assert res["base_status"] == "passed" and res["plus_status"] == "failed" and not res["correct"]


def test_slow_candidate_times_out_with_evalplus_limits(he_small):
    problems, gt, _ = he_small
    p = problems["HumanEval/2"]
    slow = "import time\ndef truncate_number(number):\n    time.sleep(5)\n    return number - int(number)\n"
    res = humaneval.grade_program(
        slow, p, gt[p.task_id]
    )  # each input's limit is max(1 s, 4 x reference time)
    assert res["base_status"] == "timeout"


# ------------------------------------------------------------------------------------------------------------
# LiveCodeBench
# ------------------------------------------------------------------------------------------------------------
def test_lcb_shipped_file_loses_the_shared_junk_tests():
    problems = livecodebench.load_problems()
    assert len(problems) == 279
    assert sum(p.kind == "stdin" for p in problems) == 175
    assert all(1 <= len(p.tests) <= 6 for p in problems)
    assert sum(len(p.tests) for p in problems) == 736  # 279 * ~2.6 public tests (counted from the file)
    with pytest.raises(ValueError, match="mixes stdin and functional"):  # the junk tests are functional ones
        livecodebench.load_problems(drop_shared_tests=False)


def test_lcb_date_window(tmp_path):
    with pytest.raises(ValueError, match="no per-problem dates"):
        livecodebench.load_problems(date_from="2024-10-01")
    rows = [
        {
            "question_content": f"q{i}",
            "starter_code": "",
            "contest_date": d,
            "public_test_cases": json.dumps([{"input": "1\n", "output": "1\n", "testtype": "stdin"}]),
        }
        for i, d in enumerate(["2024-07-31T00:00:00", "2024-08-01T00:00:00", "2025-01-31", "2025-02-01"])
    ]
    path = tmp_path / "lcb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    kept = livecodebench.load_problems(
        path, date_from="2024-08-01", date_to="2025-02-01", drop_shared_tests=False
    )
    assert [p.contest_date for p in kept] == ["2024-08-01", "2025-01-31"]


def test_lcb_grading_stdin_and_functional():
    problems = livecodebench.load_problems()
    second_largest = problems[0]  # "Which element in A is the second largest?" -> its 1-based position
    good = "```python\nn = int(input())\na = list(map(int, input().split()))\nprint(a.index(sorted(a)[-2]) + 1)\n```"
    bad = "```python\nn = int(input())\na = list(map(int, input().split()))\nprint(a.index(max(a)) + 1)\n```"
    assert livecodebench.grade_program(livecodebench.program_from_response(good), second_largest)["correct"]
    assert not livecodebench.grade_program(livecodebench.program_from_response(bad), second_largest)[
        "correct"
    ]
    fn = next(p for p in problems if p.kind == "functional")
    assert fn.entry_point == "Solution.shortestDistanceAfterQueries"
    bfs = (
        "class Solution:\n    def shortestDistanceAfterQueries(self, n: int, queries: List[List[int]]) -> List[int]:\n"
        "        adj = defaultdict(list)\n        for i in range(n - 1):\n            adj[i].append(i + 1)\n"
        "        out = []\n        for u, v in queries:\n            adj[u].append(v)\n            dist = {0: 0}\n"
        "            dq = deque([0])\n            while dq:\n                x = dq.popleft()\n"
        "                for y in adj[x]:\n                    if y not in dist:\n"
        "                        dist[y] = dist[x] + 1\n                        dq.append(y)\n"
        "            out.append(dist[n - 1])\n        return out\n"
    )
    res = livecodebench.grade_program(livecodebench.program_from_response(bfs), fn)
    assert res["correct"], res
    res = livecodebench.grade_program(
        livecodebench.program_from_response(bfs.replace("dist[n - 1]", "0")), fn
    )
    assert not res["correct"] and res["status"] == "failed"


# ------------------------------------------------------------------------------------------------------------
# Codeforces
# ------------------------------------------------------------------------------------------------------------
def test_cf_data_join_and_flags():
    all_problems = codeforces.load_problems(skip_interactive=False)
    assert len(all_problems) == 408
    assert sum(p.interactive for p in all_problems) == 17
    gradable = codeforces.load_problems()
    assert len(gradable) == 391 and not any(p.interactive for p in gradable)
    first = gradable[0]
    assert (first.id, first.rating, first.time_limit_s) == ("1971A", 800, 1.0)
    tol = {p.id: p.float_tol for p in all_problems if p.float_tol}
    assert tol == {"2023D": 1e-6, "2024F": 1e-6}
    assert min(p.rating for p in all_problems) == 800 and max(p.rating for p in all_problems) == 3500


def test_float_tolerance_parsing():
    assert codeforces.float_tolerance("absolute or relative error does not exceed $10^{-6}$.") == 1e-6
    assert codeforces.float_tolerance("if its absolute error doesn't exceed 10^{-4}") == 1e-4
    assert codeforces.float_tolerance("print the answer modulo 10^9+7") is None


def test_cf_grading():
    p = codeforces.load_problems(limit=1)[0]  # 1971A: print min and max of x, y for t cases
    good = "t = int(input())\nfor _ in range(t):\n    x, y = map(int, input().split())\n    print(min(x, y), max(x, y))\n"
    assert codeforces.grade_program(good, p)["correct"]
    assert not codeforces.grade_program(good.replace("min(x, y), max", "max(x, y), min"), p)["correct"]
