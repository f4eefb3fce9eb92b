"""The real BFCL machinery, from the installed ``bfcl-eval`` package: executable API classes and the checker.

``bfcl_eval``'s ``execute_multi_turn_func_call`` keeps one API instance per (model name, entry id, class) in
its module globals, and ``multi_turn_checker`` does the same for the model's and the ground truth's replay. So
every episode (:class:`ApiSession`) and every check (:func:`check_turns`) uses its own fresh model name, and
drops its instances from those globals when done; otherwise a second episode of the same entry would start
from the first one's final state.

Only these modules of the package are imported (their only third-party dependency is ``mpmath``), so
``pip install --no-deps bfcl-eval==2026.3.23`` is enough.
"""

from __future__ import annotations

import inspect
import itertools
import os
import uuid
from typing import Any

from evaluators.bfcl.data import INSTALL_HINT, BFCLEntry

_counter = itertools.count()


def require_bfcl():
    """The ``bfcl_eval`` multi-turn modules ``(multi_turn_utils, multi_turn_checker)``; a clear ImportError
    with the install line when the package is missing."""
    try:
        from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker, multi_turn_utils
    except ImportError as e:
        raise ImportError(f"BFCL evaluation needs the bfcl-eval package ({INSTALL_HINT}): {e}") from None
    return multi_turn_utils, multi_turn_checker


def bfcl_available() -> bool:
    try:
        require_bfcl()
    except ImportError:
        return False
    return True


def fresh_tag(kind: str) -> str:
    """A model name no other episode or check in any process uses (``resrl_<kind>_<pid>_<n>_<hex>``)."""
    return f"resrl_{kind}_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:8]}"


def drop_instances(tag: str) -> int:
    """Remove the API instances BFCL cached under model name ``tag`` (any suffix); returns how many."""
    utils, _ = require_bfcl()
    names = [k for k in vars(utils) if k.startswith(tag + "_") and k.endswith("_instance")]
    for k in names:
        del vars(utils)[k]
    return len(names)


class ApiSession:
    """The executable API instances of one episode of ``entry`` (state kept across turns).

    ``execute(calls)`` runs BFCL call strings in order and returns one result string per call (errors come
    back as ``"Error during execution: ..."`` strings, as in BFCL); ``method_names`` are the callable public
    methods of the involved classes.
    """

    def __init__(self, entry: BFCLEntry) -> None:
        self.entry = entry
        self.tag = fresh_tag("env")
        self._utils, _ = require_bfcl()
        _, instances = self._run([])  # creates the instances from initial_config
        self.method_names: frozenset[str] = frozenset(
            name
            for inst in instances.values()
            for name, _ in inspect.getmembers(inst, predicate=inspect.ismethod)
            if not name.startswith("_")
        )
        self.closed = False

    def _run(self, calls: list[str]) -> tuple[list[str], dict[str, Any]]:
        return self._utils.execute_multi_turn_func_call(
            calls,
            self.entry.initial_config,
            self.entry.involved_classes,
            self.tag,
            self.entry.id,
            long_context=self.entry.long_context,
            is_evaL_run=False,
        )

    def execute(self, calls: list[str]) -> list[str]:
        if self.closed:
            raise RuntimeError(f"ApiSession of {self.entry.id} is closed")
        results, _ = self._run(list(calls))
        return [str(r) for r in results]

    def close(self) -> None:
        if not self.closed:
            drop_instances(self.tag)
            self.closed = True


def check_turns(entry: BFCLEntry, turns: list[list[list[str]]]) -> dict[str, Any]:
    """BFCL's verdict on the executed calls ``turns[t][step] = [call, ...]``: ``multi_turn_checker``'s dict
    (``valid`` and, when invalid, ``error_type``/``error_message``). A transcript with fewer turns than the
    ground truth (forced quit after the step limit, or an episode cut off) is invalid, as in BFCL's
    ``multi_turn:force_terminated``."""
    if len(turns) != len(entry.ground_truth):
        return {
            "valid": False,
            "error_type": "multi_turn:force_terminated",
            "error_message": f"{len(turns)} of {len(entry.ground_truth)} turns completed",
        }
    _, checker = require_bfcl()
    tag = fresh_tag("check")
    try:
        result = checker.multi_turn_checker(
            [[list(step) for step in turn] for turn in turns],
            entry.ground_truth,
            entry.checker_entry(),
            f"multi_turn_{entry.category}",
            tag,
        )
    finally:
        drop_instances(tag)
    return result
