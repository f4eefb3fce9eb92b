"""LiveCodeBench: stdin/stdout and functional problems of a release window, graded on the public and private
tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluators.code import livecodebench as lcb
from evaluators.code.benchmarks.base import CodeBenchmark, CodeTask, register
from evaluators.code.prompting import functional_user, stdin_user


@register
class LiveCodeBench(CodeBenchmark):
    name = "livecodebench"
    shipped_data = Path(lcb.DATA_FILE)

    def read_tasks(self, b: Any) -> list[CodeTask]:
        problems = lcb.load_problems(
            b.data_path, None, b.date_from, b.date_to, drop_shared_tests=b.drop_shared_tests
        )
        return [
            CodeTask(
                p.id,
                stdin_user(p.statement)
                if p.kind == "stdin"
                else functional_user(p.statement, p.starter_code),
                p,
            )
            for p in problems
        ]

    def grade(self, text: str, task: CodeTask, b: Any, prepared: Any) -> dict[str, Any]:
        program = lcb.program_from_response(text)
        return {"program": program, **lcb.grade_program(program, task.problem, b.timeout_s, b.memory_mb)}
