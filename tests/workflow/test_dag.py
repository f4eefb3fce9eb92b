"""The Snakemake DAG: dry runs of both profiles (and an ablation), config validation, and (slow) a real
end-to-end run of the smallest profile in a temporary directory."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resrl.paths import REPO_ROOT
from tests.helpers import job_counts, run_snakemake


def _dry_run(*config: str, workdir: Path | None = None) -> subprocess.CompletedProcess:
    return run_snakemake(workdir=workdir, config=config)


def _shell_commands(stdout: str, module: str) -> list[str]:
    """The printed shell commands (`snakemake -n -p`) that run `python -m <module>`."""
    return [
        line.split("Shell command:", 1)[1].strip()
        for line in stdout.splitlines()
        if line.startswith("Shell command:") and f" -m {module} " in line
    ]


def _workflow_copy(root: Path, profile: str) -> Path:
    """The workflow (Snakefile, rules, profiles, the paper's reference numbers) copied to `root`, with one more
    profile `custom` holding `profile`; returns the copy's Snakefile."""
    root.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "Snakefile", root / "Snakefile")
    for part in ("workflow", "experiments"):
        shutil.copytree(REPO_ROOT / part, root / part)
    (root / "results" / "paper").mkdir(parents=True)
    shutil.copy(
        REPO_ROOT / "results" / "paper" / "reference.csv", root / "results" / "paper" / "reference.csv"
    )
    (root / "experiments" / "profile" / "custom.yaml").write_text(profile)
    return root / "Snakefile"


def _custom_dry_run(tmp_path: Path, profile: str) -> subprocess.CompletedProcess:
    snakefile = _workflow_copy(tmp_path / "repo", profile)
    return run_snakemake(snakefile=snakefile, workdir=tmp_path / "work", config=["profile=custom"])


def test_tiny_profile_dry_run_lists_every_stage(tmp_path):
    proc = _dry_run(workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = job_counts(proc.stdout)
    # 5 trained methods; 6 variants (with the untrained backbone) x 2 evaluation parts
    assert jobs["train"] == 5 and jobs["sample_arith"] == 6 and jobs["metrics_arith2"] == 6
    assert {"table1", "passk_figure", "training_curves", "diversity_figure", "compare_paper", "all"} <= set(
        jobs
    )
    # no code, agent or BFCL jobs on the CPU profile
    assert not {"evaluate_code", "evaluate_agents", "evaluate_bfcl", "table2", "table3", "table4"} & set(jobs)
    assert (
        jobs["total"] == 38
    )  # with the preflight job, the accuracy-against-diversity figure, the diagnostics table


def test_paper_profile_dry_run_lists_the_grid(paper_commands):
    """Each table trained as the paper did: one policy per domain, on that domain's data, with its baselines."""
    out = paper_commands
    jobs = job_counts(out)
    # math 3 sizes x 6 methods; code 6 methods on Qwen3-4B; ALFWorld and WebShop 4 each (PPO, GRPO, EMPG, ResRL);
    # tools 3 (NSR, W-REINFORCE, ResRL) + ResT on the local trainer; Table 5: NSR and ResRL at 32B
    assert jobs["train"] == 18 + 6 + 4 + 4 + 3 + 1 + 2
    trains = _shell_commands(out, "resrl.backends.verl.launch") + _shell_commands(out, "resrl.train")
    tasks = sorted(re.search(r"'task=(\w+)'", c).group(1) for c in trains)
    assert {t: tasks.count(t) for t in set(tasks)} == {
        "dapo_math": 18 + 2,
        "deepcoder": 6,
        "alfworld": 4,
        "webshop": 4,
        "toolrl": 3 + 1,  # ResT in its own domain (tools_rest)
    }
    assert any("'model=qwen3-32b'" in c and "cluster=paper32b" in c for c in trains)
    assert jobs["sample_math"] == 21 and jobs["sample_passk"] == 21  # with the backbone rows
    assert jobs["evaluate_code"] == 7 * 3  # backbone + 6 methods x LiveCodeBench, CodeForces, HumanEval+
    assert jobs["evaluate_agents"] == 5 + 5  # ReAct + 4 trained, per environment, on its own checkpoints
    assert jobs["evaluate_bfcl"] == 4 + 1 + 1  # backbone + 3 trained + ResT + the published ToolACE-8B
    assert jobs["sample_math32b"] == 2 and jobs["preflight"] == 1
    for t in ("table1", "table2", "table3", "table4", "table5", "compare_paper"):
        assert jobs[t] == 1, t
    # the math checkpoints are evaluated on math only
    for module in ("evaluators.code", "evaluators.agents", "evaluators.bfcl"):
        assert not any("results/runs/paper/math/" in c for c in _shell_commands(out, module)), module


@pytest.fixture(scope="module")
def paper_commands(tmp_path_factory) -> str:
    """`snakemake -n -p` of the paper profile: every job with its shell command."""
    proc = run_snakemake(
        workdir=tmp_path_factory.mktemp("paper"), config=["profile=paper"], print_commands=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_paper_agent_and_bfcl_jobs_run_the_evaluators_into_tables_3_and_4(paper_commands):
    out = paper_commands
    run = "'model_name=qwen3-4b' 'run_name=paper/{d}/qwen3-4b/resrl/s0/{p}' 'results_dir=results'"
    trained = (
        "'model=qwen3-4b' 'checkpoint=results/runs/paper/{d}/qwen3-4b/resrl/s0/final_model' 'method=resrl'"
    )

    agents = _shell_commands(out, "evaluators.agents")
    assert len(agents) == 10
    assert any(
        f"{trained.format(d='alfworld')} {run.format(d='alfworld', p='agents')} 'env=alfworld' 'engine=vllm' "
        "'device=cuda' 'max_steps=50' 'data_dir="
        in c
        and c.endswith("> results/logs/paper/agents/alfworld/qwen3-4b/resrl/s0/alfworld.log 2>&1")
        for c in agents
    )
    assert any(
        f"{trained.format(d='webshop')} {run.format(d='webshop', p='agents')} 'env=webshop' 'engine=vllm' "
        "'device=cuda' 'max_steps=15' 'data_dir=" in c
        for c in agents
    )
    # the untrained backbone by name, without a checkpoint, labelled ReAct
    assert any(
        "'model=qwen3-4b' 'method=react' 'model_name=qwen3-4b' 'run_name=paper/alfworld/qwen3-4b/react/s0/agents'"
        in c
        for c in agents
    )

    bfcl = _shell_commands(out, "evaluators.bfcl")
    assert len(bfcl) == 6 and all("'subset=all' 'engine=vllm' 'device=cuda'" in c for c in bfcl)
    assert any("'model=toolace-8b' 'method=toolace'" in c and "checkpoint=" not in c for c in bfcl)
    assert any(
        "'checkpoint=results/runs/paper/tools/qwen3-1.7b/resrl/s0/final_model' 'method=resrl'" in c
        for c in bfcl
    )

    # where the evaluators write their tidy metrics is what the tables and the comparison read
    table3 = _shell_commands(out, "paper_figures.table3")
    table4 = _shell_commands(out, "paper_figures.table4")
    compare = _shell_commands(out, "paper_figures.compare")
    assert len(table3) == len(table4) == len(compare) == 1
    assert table3[0].count("/agents/") == 10 and "--out paper_figures/paper/table3 " in table3[0]
    assert "--reported" not in table3[0] + table4[0]  # every baseline of Tables 3 and 4 is run
    assert "results/metrics/paper/tools_rest/qwen3-1.7b/rest/s0/bfcl/all/bfcl.csv" in table4[0]
    assert table4[0].count("/bfcl/all/bfcl.csv") == 6 and "--out paper_figures/paper/table4 " in table4[0]
    for table, domain, path in (
        ("table3", "alfworld", "results/metrics/paper/alfworld/qwen3-4b/resrl/s0/agents/alfworld.csv"),
        ("table3", "webshop", "results/metrics/paper/webshop/qwen3-4b/resrl/s0/agents/webshop.csv"),
        ("table4", "tools", "results/metrics/paper/tools/qwen3-1.7b/resrl/s0/bfcl/all/bfcl.csv"),
    ):
        assert f" {path} " in table3[0] + table4[0] and f" {table}:{domain}={path}" in compare[0]
    # `gpu` is the resource snakemake-executor-plugin-slurm turns into sbatch --gpus (tests/workflow/test_slurm.py)
    assert re.search(r"rule evaluate_agents:(?:\n    .*)*\n    resources: .*gpu=1", out)
    assert re.search(r"rule evaluate_bfcl:(?:\n    .*)*\n    resources: .*gpu=1", out)
    for table in ("table3", "table4"):
        assert f"output: paper_figures/paper/{table}.md, paper_figures/paper/{table}.tex" in out


def test_paper_training_goes_through_the_verl_launcher(tmp_path):
    out = run_snakemake(
        "--until", "train", workdir=tmp_path, config=["profile=paper"], print_commands=True
    ).stdout
    assert "-m resrl.backends.verl.launch cluster=paper cluster.python=" in out
    assert " 'method=resrl' 'model=qwen3-4b'" in out
    assert (
        f"-m resrl.backends.verl.checkpoint {tmp_path}/results/runs/paper/math/qwen3-4b/resrl/s0 --python "
        in out
    )


def test_ablation_adds_only_its_own_runs_and_outputs(tmp_path):
    """rank (6 values, the default 64 reused from the main run) and layer (4 values, default -2) together: one run
    per non-default value, one table per factor, and the main tables and figures unchanged."""
    plain = run_snakemake(workdir=tmp_path, print_commands=True)
    both = run_snakemake(workdir=tmp_path, config=["ablation=[rank,layer]"], print_commands=True)
    assert both.returncode == 0, both.stderr[-2000:]
    jobs = job_counts(both.stdout)
    assert jobs["train"] == 5 + 5 + 3 and jobs["ablation_table"] == 2
    trains = _shell_commands(both.stdout, "resrl.train")
    assert any("'method.rank=8'" in c and "/math/smollm2-135m/resrl-rank8/s0'" in c for c in trains)
    assert any("'method.layer=-2'" in c for c in trains) is False  # the default: the main run
    assert any("/math/smollm2-135m/resrl-layer-1/s0'" in c for c in trains)  # readable: layer -1 -> layer-1
    table1 = lambda out: _shell_commands(out, "paper_figures.table1")  # noqa: E731
    assert table1(both.stdout) == table1(plain.stdout)  # the main table reads exactly what it read before
    rank = next(c for c in _shell_commands(both.stdout, "paper_figures.ablation") if "--factor rank" in c)
    assert (
        "--default 64" in rank
        and "smollm2-135m/64=results/metrics/tiny/math/smollm2-135m/resrl/s0/arith/metrics.csv,results/metrics/tiny/math/smollm2-135m/resrl/s0/arith2/metrics.csv"
        in rank
    )


def test_unknown_profile_and_ablation_are_named(tmp_path):
    bad = _dry_run("profile=nope", workdir=tmp_path)
    assert bad.returncode != 0 and "unknown profile 'nope'; valid:" in bad.stdout + bad.stderr
    bad = _dry_run("ablation=depth", workdir=tmp_path)
    assert bad.returncode != 0 and "unknown ablation 'depth'" in bad.stdout + bad.stderr


BASE_PROFILE = """profile: custom
train: {backend: local, trainer: cpu}
domains:
  d:
    table: table1
    task: arith
    models: [qwen3-4b]
    methods: [resrl]
    evals: {math: {benchmarks: [math500]}}
"""


def _with(*sections: str) -> str:
    """BASE_PROFILE with ``sections`` added to its domain ``d``."""
    return BASE_PROFILE + "".join(f"    {s}\n" for s in sections)


@pytest.mark.parametrize(
    "section, message",
    [
        (
            "agents: {envs: [alfworld], episodes: 5}",
            "domains.d.agents: Additional properties are not allowed ('episodes'",
        ),
        (
            "bfcl: {categories: [base], limit: 2}",
            "domains.d.bfcl: Additional properties are not allowed ('limit'",
        ),
        ("agents: {envs: [alfworld, scienceworld]}", "domains.d.agents.envs.1: 'scienceworld' is not one of"),
        ("bfcl: {categories: [base, multi_turn]}", "domains.d.bfcl.categories.1: 'multi_turn' is not one of"),
        (
            "bfcl: {categories: [base, base]}",
            "domains.d.bfcl.categories: ['base', 'base'] has non-unique elements",
        ),
        ("train: {backend: slurm}", "domains.d.train.backend: 'slurm' is not one of"),
        ("table: table9", "domains.d.table: 'table9' is not one of"),
        (
            "agents: {envs: [alfworld], env_overrides: {webshop: [max_steps=5]}}",
            "domains.d.agents.env_overrides.webshop: 'webshop' is not in agents.envs",
        ),
        (
            "bfcl: {categories: [base], overrides: [run_name=x]}",
            "domains.d.bfcl.overrides: ['run_name'] are set by",
        ),
        ("passk: nope", "domains.d.passk='nope' is not one of its evals"),
        ("published: [{method: toolace, model: toolace-9b}]", "domains.d.published: no config 'toolace-9b'"),
    ],
)
def test_bad_profile_settings_are_named(tmp_path, section, message):
    """workflow/schemas/profile.schema.yaml (snakemake.utils.validate) and the cross-field checks after it."""
    proc = _custom_dry_run(tmp_path, _with(section))
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-2000:]


def test_a_typo_in_a_method_task_or_model_fails_at_dag_start(tmp_path):
    proc = _custom_dry_run(tmp_path, BASE_PROFILE.replace("methods: [resrl]", "methods: [resrl, grpoo]"))
    assert (
        proc.returncode != 0 and "domains.d.methods: no config 'grpoo' in experiments/method/" in proc.stdout
    )


def test_profile_schema_names_what_the_evaluators_know():
    """The schema's environment and category lists are the evaluators' own (Tables 3 and 4 read them)."""
    import jsonschema
    import yaml

    from evaluators.agents.registry import ENVS
    from evaluators.bfcl.data import CATEGORIES

    schema = yaml.safe_load((REPO_ROOT / "workflow" / "schemas" / "profile.schema.yaml").read_text())
    domain = schema["$defs"]["domain"]["properties"]
    envs = domain["agents"]["properties"]["envs"]["items"]["enum"]
    cats = domain["bfcl"]["properties"]["categories"]["items"]["enum"]
    assert set(envs) <= set(ENVS) and "textworld" not in envs
    assert cats == list(CATEGORIES)
    for profile in (REPO_ROOT / "experiments" / "profile").glob("*.yaml"):  # every shipped profile passes it
        jsonschema.validate(yaml.safe_load(profile.read_text()), schema)


def test_bfcl_categories_short_of_all_four_run_one_job_each(tmp_path):
    proc = _custom_dry_run(
        tmp_path,
        _with(
            "bfcl: {categories: [base, long_context]}",
            "agents: {envs: [alfworld], overrides: [device=cpu, episodes=2]}",
        ),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = job_counts(proc.stdout)
    # 2 variants (backbone, ResRL) x 2 categories (no overall row without all four); 2 variants x ALFWorld
    assert jobs["evaluate_bfcl"] == 4 and jobs["evaluate_agents"] == 2
    assert jobs["table1"] == 1


# The evaluators' `method` label shares its name with the Hydra config group experiments/method/ (their config dir
# is experiments/); evaluators.common.cli.compose_config sets it after composing. The commands the paper DAG
# prints must compose as they are.
@pytest.mark.parametrize("module", ["evaluators.agents", "evaluators.bfcl", "evaluators.code"])
def test_paper_evaluator_commands_compose(paper_commands, tmp_path, module):
    trained = next(c for c in _shell_commands(paper_commands, module) if "method=resrl" in c)
    args = shlex.split(trained.split(" > ", 1)[0].split(f"-m {module} ", 1)[1])
    proc = subprocess.run(
        [sys.executable, "-m", module, "--cfg", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "method: resrl" in proc.stdout


@pytest.mark.slow
def test_ci_profile_runs_end_to_end(tmp_path):
    ci = dict(workdir=tmp_path, config=["profile=ci"])
    proc = run_snakemake(**ci, dry_run=False, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    fig = tmp_path / "paper_figures" / "ci"
    for name in (
        "table1.md",
        "table1.tex",
        "math/passk.png",  # figures per domain (a profile may train several)
        "math/passk.pdf",
        "math/training_curves_tiny-qwen3.png",
        "math/diagnostics_tiny-qwen3/diagnostics_summary.png",
        "paper_vs_reproduced.md",
    ):
        assert (fig / name).is_file(), name
    table = (fig / "table1.md").read_text()
    assert all(f"| tiny-qwen3 | {m} |" in table for m in ("Backbone", "GRPO", "ResRL"))
    again = run_snakemake(**ci)
    assert "Nothing to be done" in again.stdout + again.stderr  # a rerun does only what is missing or stale
    # the toolbox: TensorBoard events TensorBoard reads, a model card, Snakemake's HTML report of every output
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "results" / "runs" / "ci" / "math" / "tiny-qwen3" / "grpo" / "s0"
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert "critic/score/mean" in events.Tags()["scalars"]
    assert (run / "final_model" / "README.md").read_text().startswith("---\n")
    html = tmp_path / "report.html"
    report = run_snakemake("--report", str(html), **ci, dry_run=False, timeout=600)
    assert report.returncode == 0, report.stderr[-3000:]
    text = html.read_text()
    for name in (
        "table1.md",
        "paper_vs_reproduced.md",
        "passk.png",
        "diversity_tiny-qwen3.png",
        "training_curves_tiny-qwen3.png",
        "diagnostics_summary.png",
    ):
        assert name in text, name


def test_three_seeds_run_every_training_and_evaluation_once_per_seed(tmp_path):
    """`--config seeds=[0,1,2]` on the paper profile: three times the trainings and evaluations, each with its seed
    (the trainer's and the sampling seed), in its own s<seed>/ folder; the tables read all three."""
    proc = run_snakemake(workdir=tmp_path, config=["profile=paper", "seeds=[0,1,2]"], print_commands=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = job_counts(proc.stdout)
    assert jobs["train"] == 3 * 38 and jobs["sample_math"] == 3 * 21 and jobs["evaluate_bfcl"] == 3 * 6
    assert jobs["table1"] == 1 and jobs["preflight"] == 1
    trains = _shell_commands(proc.stdout, "resrl.backends.verl.launch")
    for seed in (0, 1, 2):
        mine = [c for c in trains if f"'trainer.seed={seed}'" in c]
        # 38 trainings per seed, 37 on veRL (ResT trains on the local trainer)
        assert len(mine) == 37 and all(f"/s{seed}'" in c.split("output_dir=")[1].split()[0] for c in mine)
    math = _shell_commands(proc.stdout, "evaluators.math")
    assert any(
        "checkpoint=results/runs/paper/math/qwen3-4b/resrl/s2/final_model" in c
        and "'run_name=paper/math/qwen3-4b/resrl/s2/math'" in c
        and c.split(">")[0].rstrip().endswith("'seed=2'")
        for c in math
    )
    table1 = _shell_commands(proc.stdout, "paper_figures.table1")[0]
    assert all(f"results/metrics/paper/math/qwen3-4b/grpo/s{s}/math/metrics.csv" in table1 for s in (0, 1, 2))


@pytest.mark.parametrize(
    "seeds, message", [("[0,0]", "distinct non-negative"), ("[a]", "must be integers"), ("[-1]", "distinct")]
)
def test_bad_seeds_are_named(tmp_path, seeds, message):
    proc = _dry_run(f"seeds={seeds}", workdir=tmp_path)
    assert proc.returncode != 0 and "seeds" in proc.stdout + proc.stderr
    assert message in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-1500:]


def test_paper_ablation_trains_where_the_paper_ran_it_not_the_whole_grid(tmp_path):
    """`ablation_models: [qwen3-4b]` in the paper profile: a rank sweep adds its non-default values on Qwen3-4B
    only, each with a table and a figure, and a diversity-floor figure for min_weight."""
    plain = run_snakemake(workdir=tmp_path, config=["profile=paper"], print_commands=True)
    both = run_snakemake(
        workdir=tmp_path, config=["profile=paper", "ablation=[rank,min_weight]"], print_commands=True
    )
    assert plain.returncode == 0 and both.returncode == 0, both.stderr[-2000:]
    added = job_counts(both.stdout)["train"] - job_counts(plain.stdout)["train"]
    assert (
        added == 5 + 4
    )  # rank 8, 16, 32, 128, 256 and min_weight 0, 0.3, 0.5, 1 (the defaults reuse the main run)
    trains = _shell_commands(both.stdout, "resrl.backends.verl.launch")
    ablated = [c for c in trains if "'method.rank=" in c or "'method.min_weight=" in c]
    assert len(ablated) == 9 and all("'model=qwen3-4b'" in c for c in ablated)
    jobs = job_counts(both.stdout)
    assert jobs["ablation_table"] == 2 and jobs["ablation_diversity_figure"] == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        ("ablation_models: [qwen3-8b]\n", "ablation_models: ['qwen3-8b'] are not models of domain 'd'"),
        ("seeds: [0, 0]\n", "seeds: [0, 0] has non-unique elements"),
        ("seeds: [-1]\n", "seeds.0: -1 is less than the minimum of 0"),
    ],
)
def test_bad_seeds_and_ablation_models_in_a_profile_are_named(tmp_path, extra, message):
    proc = _custom_dry_run(tmp_path, BASE_PROFILE + extra)
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-2000:]
