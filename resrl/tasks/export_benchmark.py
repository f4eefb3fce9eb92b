"""Export a task's held-out split as a math benchmark file (``id, problem, answer, source`` per line), so the
math evaluator and the DAG can measure what training on the task changed.

    python -m resrl.tasks.export_benchmark arith --count 200 --out data/math/arith.jsonl
    python -m resrl.tasks.export_benchmark arith --level 2 --count 200 --out data/math/arith2.jsonl

Deterministic: the file depends only on the task config (``experiments/task/<name>.yaml``, with ``--level`` when
given) and ``--count``.
The problem text is the bare question; the matching prompt (the task's one-shot demonstration and the math
instruction) is ``experiments/benchmark/prompt/arith_1shot.yaml``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from resrl.tasks.registry import make_task
from resrl.trainer.metrics_log import atomic_write_text


def export_lines(task_name: str, count: int, **overrides: object) -> list[str]:
    task = make_task(task_name, **overrides)
    if count > task.size("test"):
        raise ValueError(f"--count {count} exceeds the {task_name} test split ({task.size('test')} problems)")
    lines = []
    for i in range(count):
        p = task.get("test", i)
        question = p.meta.get("question") or p.prompt_messages[-1]["content"]
        lines.append(
            json.dumps(
                {
                    "id": p.id,
                    "problem": question,
                    "answer": str(p.answer),
                    "source": f"resrl.tasks.{task_name} test split (synthetic)",
                },
                ensure_ascii=False,
            )
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m resrl.tasks.export_benchmark", description=__doc__.splitlines()[0]
    )
    ap.add_argument("task")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--level", type=int, default=None, help="the task's difficulty level (arith: 1, 2 or 3)")
    a = ap.parse_args(argv)
    overrides = {} if a.level is None else {"level": a.level}
    atomic_write_text(a.out, "\n".join(export_lines(a.task, a.count, **overrides)) + "\n")
    print(a.out)


if __name__ == "__main__":
    main()
