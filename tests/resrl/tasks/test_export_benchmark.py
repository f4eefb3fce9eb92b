import yaml

from evaluators.math.benchmarks import load_benchmark
from evaluators.math.prompting import PromptConfig, build_messages
from resrl.paths import REPO_ROOT
from resrl.tasks import arith
from resrl.tasks.export_benchmark import export_lines
from resrl.tasks.registry import make_task


def test_shipped_arith_benchmark_is_reproducible_and_loads():
    shipped = (REPO_ROOT / "data" / "math" / "arith.jsonl").read_text().splitlines()
    assert shipped == export_lines("arith", len(shipped))
    problems = load_benchmark("arith")
    assert len(problems) == 200 and problems[0].answer == make_task("arith").get("test", 0).answer


def test_arith_prompt_config_reproduces_the_training_prompt():
    cfg = yaml.safe_load((REPO_ROOT / "experiments/benchmark/prompt/arith_1shot.yaml").read_text())
    prompt = PromptConfig(**cfg)
    assert [list(d) for d in prompt.demos] == [list(arith.DEMOS[1])]
    task = make_task("arith")
    p = task.get("test", 3)
    assert build_messages(p.meta["question"], prompt) == p.prompt_messages
