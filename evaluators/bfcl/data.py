"""BFCL multi-turn data: questions, ground-truth calls and function docs of one category.

A data folder holds (the layout of ``bfcl_eval/data/`` in the ``bfcl-eval`` package and of the v3 copy in
``/work/shared/data/bfcl_v3_multi_turn``; see ``/work/shared/data/SOURCES.md``; Apache-2.0):

- ``BFCL_v<N>_multi_turn_<category>.json``: JSON lines ``id, question, initial_config, involved_classes``
  (+ ``missed_function`` in ``miss_func``: turn index -> names of the functions held out until that turn);
- ``possible_answer/BFCL_v<N>_multi_turn_<category>.json``: JSON lines ``id, ground_truth`` (per turn, the
  calls as Python source, e.g. ``"cd(folder='document')"``);
- ``multi_turn_func_doc/<api>.json``: JSON lines, one function doc (``name, description, parameters,
  response``) per line.

By default the data comes from the installed ``bfcl_eval`` package (v4 file names, same content as v3).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resrl.records.jsonl import read_jsonl as _read_jsonl

#: The four multi-turn categories of BFCL v3 (paper Table 4 columns).
CATEGORIES: tuple[str, ...] = ("base", "miss_func", "miss_param", "long_context")

#: API class -> function-doc file in ``multi_turn_func_doc/`` (the eight classes of the multi-turn categories;
#: names as in bfcl_eval's ``constants/executable_backend_config.py``).
FUNC_DOC_FILES: dict[str, str] = {
    "GorillaFileSystem": "gorilla_file_system.json",
    "MathAPI": "math_api.json",
    "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json",
    "TicketAPI": "ticket_api.json",
    "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json",
    "VehicleControlAPI": "vehicle_control.json",
}

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install --no-deps bfcl-eval==2026.3.23"


@dataclass(frozen=True)
class BFCLEntry:
    """One multi-turn test entry.

    ``question[t]``: the messages that open user turn ``t`` (empty for a miss_func turn that only adds
    functions); ``ground_truth[t]``: the reference calls of turn ``t`` (Python source strings);
    ``functions``: docs of the functions available from the start (held-out ones removed);
    ``held_out``: turn index -> docs of the functions added at the start of that turn (miss_func only);
    ``initial_config``/``involved_classes``: the state the executable API classes start from.
    """

    id: str
    category: str
    question: list[list[dict[str, Any]]]
    ground_truth: list[list[str]]
    initial_config: dict[str, Any]
    involved_classes: list[str]
    functions: list[dict[str, Any]]
    held_out: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def num_turns(self) -> int:
        return len(self.question)

    @property
    def long_context(self) -> bool:
        """BFCL loads the long-context variant of the API state for this category."""
        return "long_context" in self.category

    def checker_entry(self) -> dict[str, Any]:
        """The fields ``multi_turn_checker`` reads (``id``, ``initial_config``, ``involved_classes``)."""
        return {
            "id": self.id,
            "initial_config": self.initial_config,
            "involved_classes": list(self.involved_classes),
        }


def canonical_category(name: str) -> str:
    """``base`` / ``multi_turn_base`` / ``bfcl_base`` -> ``base``; raises listing the valid names."""
    short = name.removeprefix("bfcl_").removeprefix("multi_turn_")
    if short not in CATEGORIES:
        raise ValueError(f"unknown BFCL multi-turn category {name!r}; allowed: {list(CATEGORIES)}")
    return short


def default_data_dir() -> Path:
    """``bfcl_eval/data`` inside the installed package (found without importing it)."""
    env = os.environ.get("RESRL_BFCL_DATA_DIR")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"BFCL data not found: the bfcl_eval package is not installed ({INSTALL_HINT}); or pass data_dir= "
            "(e.g. /work/shared/data/bfcl_v3_multi_turn) or set RESRL_BFCL_DATA_DIR"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def question_file(data_dir: Path, category: str) -> Path:
    """``BFCL_v<N>_multi_turn_<category>.json`` in ``data_dir`` (the highest version if several)."""
    found = sorted(
        data_dir.glob(f"BFCL_v*_multi_turn_{category}.json"),
        key=lambda p: int(p.name.split("_")[1][1:]) if p.name.split("_")[1][1:].isdigit() else -1,
    )
    if not found:
        raise FileNotFoundError(
            f"BFCL data file missing: {data_dir}/BFCL_v4_multi_turn_{category}.json (or BFCL_v3_...); "
            f"data_dir must hold the bfcl_eval data layout ({INSTALL_HINT}, or /work/shared/data/bfcl_v3_multi_turn)"
        )
    return found[-1]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file; a missing file or a bad line raises naming file and line."""
    if not path.is_file():
        raise FileNotFoundError(f"BFCL data file missing: {path}")
    return _read_jsonl(path)


def load_function_docs(data_dir: Path, api_class: str) -> list[dict[str, Any]]:
    """The function docs of one API class (``multi_turn_func_doc/<file>``)."""
    if api_class not in FUNC_DOC_FILES:
        raise ValueError(f"unknown BFCL API class {api_class!r}; known: {sorted(FUNC_DOC_FILES)}")
    return read_jsonl(data_dir / "multi_turn_func_doc" / FUNC_DOC_FILES[api_class])


def split_held_out(
    functions: list[dict[str, Any]], missed: dict[str, list[str]], where: str
) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """Remove the functions named in ``missed`` (turn -> names) from ``functions``; returns the remaining docs
    and turn -> removed docs. A name that is not among the docs is an error naming ``where``."""
    remaining = list(functions)
    held: dict[int, list[dict[str, Any]]] = {}
    for turn, names in missed.items():
        docs = []
        for name in names:
            idx = next((i for i, d in enumerate(remaining) if d.get("name") == name), None)
            if idx is None:
                raise ValueError(
                    f"{where}: missed_function names {name!r}, which is not among its function docs"
                )
            docs.append(remaining.pop(idx))
        held[int(turn)] = docs
    return remaining, held


def load_category(
    category: str, data_dir: str | os.PathLike | None = None, limit: int | None = None
) -> list[BFCLEntry]:
    """The entries of one category in file order (the first ``limit`` if given).

    Checks that every question has a ground truth and that a held-out turn has no user message (as BFCL's
    inference loop asserts); a ground truth with another number of turns than the question is logged (BFCL
    scores such an entry invalid whatever the model does).
    """
    category = canonical_category(category)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"BFCL data folder not found: {root}")
    qpath = question_file(root, category)
    apath = root / "possible_answer" / qpath.name
    questions = read_jsonl(qpath)
    answers = {a.get("id"): a for a in read_jsonl(apath)}
    if limit is not None:
        questions = questions[:limit]
    docs_cache: dict[str, list[dict[str, Any]]] = {}
    entries = []
    for q in questions:
        where = f"{qpath} id {q.get('id')!r}"
        for key in ("id", "question", "involved_classes"):
            if key not in q:
                raise ValueError(f"{where}: missing field {key!r}")
        answer = answers.get(q["id"])
        if answer is None or "ground_truth" not in answer:
            raise ValueError(f"{apath}: no ground_truth for id {q['id']!r}")
        gt = answer["ground_truth"]
        if len(gt) != len(q["question"]):
            # BFCL's evaluator fails such an entry (multi_turn:force_terminated); the v3 copy has one
            log.warning(
                "%s: %d turns but %d ground-truth turns in %s; no episode can be valid",
                where,
                len(q["question"]),
                len(gt),
                apath,
            )
        functions: list[dict[str, Any]] = []
        for cls in q["involved_classes"]:
            if cls not in docs_cache:
                docs_cache[cls] = load_function_docs(root, cls)
            functions.extend(docs_cache[cls])
        functions, held = split_held_out(functions, q.get("missed_function", {}), where)
        for turn in held:
            if not 0 <= turn < len(q["question"]) or q["question"][turn]:
                raise ValueError(
                    f"{where}: held-out turn {turn} must be an existing turn without user message"
                )
        entries.append(
            BFCLEntry(
                id=q["id"],
                category=category,
                question=q["question"],
                ground_truth=gt,
                initial_config=q.get("initial_config", {}),
                involved_classes=list(q["involved_classes"]),
                functions=functions,
                held_out=held,
            )
        )
    return entries
