"""ToolRL's reward (Qian et al. 2025, "ToolRL: Reward is All Tool Learning Needs"): format + correctness of tool
calls, ``R = R_format + R_correct`` in [-3, 4]. As in ToolRL's ``verl/utils/reward_score/rlla.py`` (default path,
every variant switch off; commit 8cee13e), written anew here:

- ``R_format`` in {0, 1}: the response matches the layout the ground truth has, with each tag exactly once:
  ``<think>..</think>`` then ``\\n<tool_call>\\n..\\n</tool_call>`` when the ground truth calls tools, then
  ``\\n<response>..</response>`` when it answers in text.
- ``R_correct`` in [-3, 3] (0 when the ground truth calls no tool): the calls are the JSON objects, one per line,
  inside ``<tool_call>``; each ``{"name", "parameters"}``. No tag or unparsable JSON: -3; the same list: +3. Else
  ``S = match(names)`` plus, for each ground-truth call (in order), the best unused predicted call of the same name:
  ``match(parameter keys) + #{exactly equal values}``; ``S_max = 1 + sum(1 + |params|)``;
  ``R_correct = 6 S / S_max - 3``. ``match`` is the multiset Jaccard (1 for equal lists, 0 if either is empty).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

CORRECT_MAX, CORRECT_MIN = 3.0, -3.0
_TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


def match_score(a: list[Any], b: list[Any]) -> float:
    """Multiset Jaccard of two lists: 1 when equal, 0 when either is empty."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    inter = sum((Counter(map(_key, a)) & Counter(map(_key, b))).values())
    return inter / (len(a) + len(b) - inter)


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True) if not isinstance(v, str) else v


def format_reward(response: str, ground_truth: str) -> float:
    """1.0 when ``response`` has the layout of ``ground_truth`` (module docstring), else 0.0."""
    text = response.strip()
    has_call, has_resp = "<tool_call>" in ground_truth, "<response>" in ground_truth
    think = r"<think>.*?</think>"
    call = r"\n<tool_call>\n.*?\n</tool_call>"
    resp = r"\n<response>.*?</response>"
    pattern = "^" + think + (call if has_call else "") + (resp if has_resp else "") + "$"
    tags = ["<think>", "</think>"] + (["<tool_call>", "</tool_call>"] if has_call else [])
    tags += ["<response>", "</response>"] if has_resp else []
    if not re.match(pattern, text, re.DOTALL):
        return 0.0
    return 1.0 if all(text.count(t) == 1 for t in tags) else 0.0


def parse_calls(text: str) -> list[dict[str, Any]] | None:
    """The ``{"name", "parameters"}`` objects inside the ``<tool_call>`` block, or None (no block, bad JSON)."""
    m = _TOOL_CALL.search(text)
    if m is None:
        return None
    calls = []
    for line in m.group(1).strip().split("\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            return None
        if not isinstance(obj, dict):
            return None
        calls.append({"name": obj.get("name"), "parameters": obj.get("parameters") or {}})
    return calls


def calls_score(gt: list[dict[str, Any]], pred: list[dict[str, Any]]) -> float:
    """``R_correct`` of predicted calls against ground-truth calls (module docstring)."""
    if gt == pred:
        return CORRECT_MAX
    score = match_score([c["name"] for c in gt], [c["name"] for c in pred])
    s_max, used = 1.0, set()
    for g in gt:
        gp = g["parameters"] if isinstance(g["parameters"], dict) else {}
        s_max += 1 + len(gp)
        best, best_j = 0.0, None
        for j, p in enumerate(pred):
            if j in used or p["name"] != g["name"]:
                continue
            pp = p["parameters"] if isinstance(p["parameters"], dict) else {}
            s = match_score(list(gp), list(pp)) + sum(1 for k, v in gp.items() if k in pp and pp[k] == v)
            if best_j is None or s > best:
                best, best_j = s, j
        if best_j is not None:
            used.add(best_j)
            score += best
    return (CORRECT_MAX - CORRECT_MIN) * score / s_max + CORRECT_MIN


def correctness_reward(response: str, ground_truth: str) -> float:
    if "<tool_call>" not in ground_truth:
        return 0.0
    gt, pred = parse_calls(ground_truth), parse_calls(response)
    if gt is None:
        raise ValueError(f"ground truth has an unreadable <tool_call> block: {ground_truth[:120]!r}")
    return CORRECT_MIN if pred is None else calls_score(gt, pred)


def toolrl_reward(response: str, ground_truth: str) -> float:
    """ToolRL's score in [-3, 4]: format (0/1) + correctness ([-3, 3])."""
    return format_reward(response, ground_truth) + correctness_reward(response, ground_truth)
