"""The lm-evaluation-harness task package: hooks (always) and YAML loading (when lm_eval is installed)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

import evaluators.math

TASK_DIR = Path(evaluators.math.__file__).parent / "lm_eval_tasks"
_spec = importlib.util.spec_from_file_location("resrl_lm_eval_utils", TASK_DIR / "utils.py")
utils = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(utils)


def test_process_results_grades_every_repeat():
    doc = {"answer": "27", "problem": "p"}
    out = utils.process_results(doc, [["\\boxed{27}", "\\boxed{26}", "\\boxed{27.0}", "no answer"]])
    assert out["avg_at_n"] == 0.5
    assert out["pass_at_1"] == pytest.approx(0.5)
    assert out["pass_at_2"] == pytest.approx(1 - 1 / 6)  # 1 - C(2,2)/C(4,2)
    assert out["pass_at_4"] == 1.0
    assert math.isnan(out["pass_at_8"])
    assert utils.process_results(doc, ["\\boxed{27}"])["avg_at_n"] == 1.0  # a single response string


def test_prompt_and_filter_hooks():
    from evaluators.math.prompting import build_messages

    # the math evaluator's default prompt (DAPO-Math's "Answer:" wrapper), so both tools ask the same question
    assert utils.doc_to_text({"problem": " Q? "}) == build_messages("Q?")[-1]["content"]
    assert "\n\nQ?\n\n" in utils.doc_to_text({"problem": " Q? "})
    resps = [["a", "b"], ["c", "d"]]
    assert utils.keep_all_repeats(resps, [{}, {}]) is resps


def test_every_benchmark_has_a_task_file():
    names = {p.stem for p in TASK_DIR.glob("resrl_*.yaml")}
    benches = {
        "resrl_aime24",
        "resrl_aime25",
        "resrl_amc23",
        "resrl_math500",
        "resrl_minerva",
        "resrl_olympiad",
    }
    assert names == {"resrl_math", "resrl_math_n16"} | benches | {f"{b}_n16" for b in benches}


def test_generation_limits_match_the_math_evaluator():
    """Quick by default (4 repeats), 16 with the _n16 tasks; temperature, top-p and the token limit are the math
    evaluator's (experiments/benchmark/math_eval.yaml)."""
    import yaml

    from evaluators.math.config import MathEvalConfig

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))
    template = yaml.load((TASK_DIR / "_resrl_math_template.yaml").read_text(), Loader=Loader)
    n16 = yaml.safe_load((TASK_DIR / "_resrl_math_n16_template.yaml").read_text())
    defaults = MathEvalConfig()
    gen = template["generation_kwargs"]
    assert template["repeats"] == 4 and n16 == {"include": "_resrl_math_template.yaml", "repeats": 16}
    assert (gen["temperature"], gen["top_p"], gen["max_gen_toks"]) == (
        defaults.temperature,
        defaults.top_p,
        defaults.max_new_tokens,
    )
    for path in TASK_DIR.glob("resrl_*_n16.yaml"):
        task = yaml.safe_load(path.read_text())
        if "group" not in task:
            assert task["include"] == "_resrl_math_n16_template.yaml" and task["task"] == path.stem


@pytest.mark.slow  # importing lm_eval takes ~15-25 s
def test_tasks_load_in_lm_eval():
    pytest.importorskip("lm_eval")
    from lm_eval.tasks import TaskManager, get_task_dict

    tm = TaskManager(include_path=str(TASK_DIR))
    task = get_task_dict(["resrl_amc23"], tm)["resrl_amc23"]
    docs = list(task.test_docs())
    assert len(docs) == 40 and docs[0]["answer"] == "27"
    assert task.config.repeats == 4
    assert task.config.generation_kwargs["temperature"] == 0.6
    assert task.config.generation_kwargs["max_gen_toks"] == 8192
    n16 = get_task_dict(["resrl_amc23_n16"], tm)["resrl_amc23_n16"]
    assert n16.config.repeats == 16 and len(list(n16.test_docs())) == 40
