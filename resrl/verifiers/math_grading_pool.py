"""A pool of grading processes with a hard per-answer time limit.

Each worker (``python -m resrl.verifiers.math_grading_worker``) grades one (prediction, gold) pair at a time
under the in-process SIGALRM limit (:func:`resrl.verifiers.math_grader.check_in_process`). The parent also
kills a worker that has not answered ``timeout_s + grace_s`` seconds after it got its task (an answer
stuck in C code, where no signal reaches Python), records that answer as wrong and starts a fresh
worker. Workers are plain subprocesses talking JSON lines over pipes: no fork of a process that runs
torch threads, and no re-import of the caller's ``__main__``.

>>> with GradingPool(workers=2) as pool:
...     pool.check(["\\frac{1}{2}", "3"], ["0.5", "4"])
[True, False]
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections import deque

from resrl.paths import REPO_ROOT
from resrl.verifiers.math_extract import extract_answer
from resrl.verifiers.math_grader import DEFAULT_TIMEOUT_S, _obviously_wrong

#: Extra seconds the parent waits beyond the in-worker limit before it kills the worker.
DEFAULT_GRACE_S = 1.0
#: Seconds a new worker may take to import math-verify and report ready.
STARTUP_TIMEOUT_S = 120.0
#: Command that starts one worker (it must print ``"ready"``, then answer JSON lines).
WORKER_CMD: list[str] = [sys.executable, "-m", "resrl.verifiers.math_grading_worker"]


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            list(WORKER_CMD),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            bufsize=1,
        )
        self.ready = False
        self.started = time.monotonic()
        self.task: int | None = None
        self.deadline = 0.0

    def fileno(self) -> int:
        return self.proc.stdout.fileno()

    def send(self, msg: list) -> None:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # EOF ends the worker loop
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class GradingPool:
    """``workers`` grading processes (default: CPU count) with per-answer limits; a context manager."""

    def __init__(
        self,
        workers: int | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        grace_s: float = DEFAULT_GRACE_S,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"GradingPool.timeout_s must be > 0, got {timeout_s}")
        self.n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.timeout_s = timeout_s
        self.grace_s = grace_s
        self._workers: list[_Worker] = []
        self._lock = threading.RLock()
        #: Workers killed so far (time limit exceeded or crashed).
        self.n_killed = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    def _start_missing(self) -> None:
        while len(self._workers) < self.n_workers:
            self._workers.append(_Worker())

    def _await_ready(self, workers: list[_Worker]) -> None:
        pending = [w for w in workers if not w.ready]
        while pending:
            left = min(w.started for w in pending) + STARTUP_TIMEOUT_S - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"math grading worker did not start within {STARTUP_TIMEOUT_S:g} s")
            ready, _, _ = select.select(pending, [], [], left)
            for w in ready:
                line = w.proc.stdout.readline()
                if line.strip() != '"ready"':
                    raise RuntimeError(f"math grading worker failed to start (exit code {w.proc.poll()})")
                w.ready = True
            pending = [w for w in pending if not w.ready]

    def close(self) -> None:
        with self._lock:
            for w in self._workers:
                w.stop()
            self._workers = []

    def __enter__(self) -> GradingPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- grading -----------------------------------------------------------------------------------
    def check(
        self,
        preds: list[str | None],
        golds: list[str],
        timeout_s: float | None = None,
        progress: bool = False,
    ) -> list[bool]:
        """Grade extracted answers ``preds[i]`` against ``golds[i]``; ``None`` predictions are wrong."""
        if len(preds) != len(golds):
            raise ValueError(f"preds and golds differ in length: {len(preds)} != {len(golds)}")
        limit = self.timeout_s if timeout_s is None else timeout_s
        results = [False] * len(preds)
        todo = deque(i for i, p in enumerate(preds) if isinstance(p, str) and p and not _obviously_wrong(p))
        if not todo:
            return results
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc="grading", unit="ans")
        with self._lock:
            self._start_missing()
            self._await_ready(self._workers)
            busy: list[_Worker] = []
            while todo or busy:
                for w in self._workers:
                    if w.task is None and todo:
                        i = todo.popleft()
                        w.task, w.deadline = i, time.monotonic() + limit + self.grace_s
                        w.send([i, preds[i], golds[i], limit])
                        busy.append(w)
                wait_s = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                ready, _, _ = select.select(busy, [], [], wait_s)
                now = time.monotonic()
                for w in list(busy):
                    if w in ready:
                        line = w.proc.stdout.readline()
                        if line:
                            task_id, ok = json.loads(line)
                            results[task_id] = bool(ok)
                            w.task = None
                        else:  # worker died: its answer counts as wrong
                            self._replace(w)
                    elif now > w.deadline:
                        self._replace(w)
                    else:
                        continue
                    busy.remove(w)
                    if bar is not None:
                        bar.update(1)
        if bar is not None:
            bar.close()
        return results

    def _replace(self, w: _Worker) -> None:
        self.n_killed += 1
        w.kill()
        w.task = None
        fresh = _Worker()
        self._workers[self._workers.index(w)] = fresh
        self._await_ready([fresh])

    def grade(
        self, responses: list[str], answers: list[str], timeout_s: float | None = None, progress: bool = False
    ) -> list[tuple[str | None, bool]]:
        """Extract and grade full responses: ``[(extracted_answer, correct), ...]``."""
        preds = [extract_answer(r) for r in responses]
        return list(zip(preds, self.check(preds, answers, timeout_s, progress), strict=True))


_SHARED: GradingPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool() -> GradingPool:
    """A process-wide one-worker pool for calls that cannot use the in-process alarm (closed at exit)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = GradingPool(workers=1)
            atexit.register(_SHARED.close)
        return _SHARED
