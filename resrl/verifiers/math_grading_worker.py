"""Grading worker process: JSON lines on stdin ``[task_id, pred, gold, timeout_s]`` -> stdout ``[task_id, ok]``.

Started by :class:`resrl.verifiers.math_grading_pool.GradingPool` as ``python -m resrl.verifiers.math_grading_worker``;
it prints ``"ready"`` once math-verify is imported and warm. Each check runs under the in-process
SIGALRM limit; the parent kills the worker if even that does not return in time.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    from resrl.verifiers.math_grader import check_in_process

    check_in_process("\\frac{1}{2}", "0.5", 30.0)  # import and warm the parser before reporting ready
    out = sys.stdout
    out.write('"ready"\n')
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        task_id, pred, gold, timeout_s = json.loads(line)
        ok = bool(check_in_process(pred, gold, float(timeout_s)))
        out.write(json.dumps([task_id, ok]) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
