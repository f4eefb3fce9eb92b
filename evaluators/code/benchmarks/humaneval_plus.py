"""HumanEval+ (evalplus): function completions graded against the base and plus tests, with time limits from the
reference solution's run time (as evalplus); also reports the base tests alone (``humaneval_plus_base``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.code import humaneval
from evaluators.code.benchmarks.base import CodeBenchmark, CodeTask, register
from evaluators.code.prompting import humaneval_user
from evaluators.code.sanitize import sanitize_function_completion


@register
class HumanEvalPlus(CodeBenchmark):
    name = "humaneval_plus"
    shipped_data = Path(humaneval.DATA_FILE)

    def read_tasks(self, b: Any) -> list[CodeTask]:
        return [
            CodeTask(p.task_id, humaneval_user(p.prompt), p)
            for p in humaneval.load_problems(b.data_path, None)
        ]

    def prepare(self, tasks: list[CodeTask], b: Any, workers: int) -> Any:
        return humaneval.ground_truth([t.problem for t in tasks], workers=workers, path=b.data_path)

    def grade(self, text: str, task: CodeTask, b: Any, prepared: Any) -> dict[str, Any]:
        p = task.problem
        program = sanitize_function_completion(text, p.prompt, p.entry_point)
        res = humaneval.grade_program(
            program, p, prepared[p.task_id], b.min_time_limit, b.gt_time_limit_factor, b.memory_mb
        )
        status = res["plus_status"] if res["correct_base"] else res["base_status"]
        return {"program": program, "status": status, **res}

    def correctness_tables(self, tasks, records, n, correctness) -> dict:
        return {
            self.name: correctness(tasks, records, n),
            f"{self.name}_base": correctness(tasks, records, n, key="correct_base"),
        }
