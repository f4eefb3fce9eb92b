"""``python -m evaluators.code benchmarks=[humaneval_plus] model=smollm2-135m limit=5 n=1 max_new_tokens=512``

Composes ``experiments/benchmark/<benchmark>.yaml`` and ``experiments/model/<model>.yaml`` with Hydra (overrides
as ``key=value``; ``benchmark.timeout_s=10`` reaches into the benchmark's settings) and validates them against
:class:`evaluators.code.config.CodeEvalConfig`, once per benchmark of ``benchmarks=[...]`` (``benchmark=<name>``
is the same as ``benchmarks=[<name>]``). ``--cfg`` prints the composed configs and exits; ``--help`` lists the
fields. No Hydra run folders are created: outputs go to ``results/samples/<run>/`` and ``results/metrics/<run>/``
(see ``run.py``).
"""

from __future__ import annotations

import sys

from omegaconf import OmegaConf

from evaluators.code.config import BENCHMARKS, ENGINES, FORMATS, CodeEvalConfig
from evaluators.common.cli import (
    DEVICES,
    compose_config,
    model_names,
    normalize_model_overrides,
    pop_list_arg,
    render_help,
    run_cli,
)
from resrl.cli_errors import UsageError
from resrl.paths import REPO_ROOT

CONFIG_DIR = REPO_ROOT / "experiments"
CONFIG_NAME = "code_eval"
GROUPS = {"benchmark": BENCHMARKS}
CHOICES = {
    "benchmarks": BENCHMARKS,
    "model": model_names,
    "engine": ENGINES,
    "device": DEVICES,
    "format": FORMATS,
}


def _compose_one(overrides: list[str]) -> CodeEvalConfig:
    return compose_config(
        CONFIG_DIR, CONFIG_NAME, CodeEvalConfig, normalize_model_overrides(overrides), groups=GROUPS
    )


def compose(overrides: list[str]) -> CodeEvalConfig:
    """The validated config for ``overrides`` (Hydra syntax) of one benchmark (``benchmark=<name>`` or
    ``benchmarks=[<name>]``)."""
    confs = compose_all(overrides)
    if len(confs) != 1:
        raise UsageError(
            f"compose() takes one benchmark, got {[c.benchmark.name for c in confs]}; use compose_all"
        )
    return confs[0]


def compose_all(overrides: list[str]) -> list[CodeEvalConfig]:
    """One validated config per benchmark of ``benchmarks=[...]`` (or ``benchmark=<name>``; default: the config's
    default benchmark). Every benchmark name is checked before any config is composed."""
    benchmarks, rest = pop_list_arg(overrides, ("benchmarks", "benchmark"))
    for b in benchmarks or []:
        if b not in BENCHMARKS:
            raise UsageError(f"unknown code benchmark '{b}'; valid: {', '.join(BENCHMARKS)}")
    if benchmarks is None:
        return [_compose_one(rest)]
    return [_compose_one([f"benchmark={b}", *rest]) for b in dict.fromkeys(benchmarks)]


def help_text() -> str:
    return render_help(
        "evaluators.code",
        "Code evaluation (paper Table 2): sample n programs per problem with the model, run them in the sandbox "
        "against the benchmark's tests, and write Avg@n and Pass@k (Codeforces: also an Elo rating). A rerun "
        "samples only what is missing from results/samples/<run>/.",
        [
            "python -m evaluators.code benchmarks=[humaneval_plus] model=smollm2-135m limit=3 n=2",
            "python -m evaluators.code benchmarks=[livecodebench,codeforces] checkpoint=results/runs/<run>/final_model "
            "method=resrl",
            "python -m evaluators.code benchmark=humaneval_plus benchmark.memory_mb=2048 --cfg",
        ],
        CONFIG_DIR,
        CONFIG_NAME,
        CodeEvalConfig,
        CHOICES,
        extra=[
            (
                "benchmarks",
                "[humaneval_plus]",
                "benchmarks to evaluate, one after the other (benchmark=<name> "
                "is the same as benchmarks=[<name>])",
            )
        ],
        hide=("benchmark", "benchmark.name"),
        notes=[
            "benchmark.* fields tune the sandbox limits of the chosen benchmark (its experiments/benchmark/<name>.yaml "
            "holds the defaults shown for humaneval_plus). --cfg prints the composed config and exits."
        ],
    )


def _run_one(conf: CodeEvalConfig) -> None:
    from evaluators.code.run import format_table, run

    out = run(conf)
    print(
        f"\nrun {out['run_name']}  (benchmark {conf.benchmark.name}, n={conf.n}, limit={conf.limit}, "
        f"max_new_tokens={conf.max_new_tokens}, sandbox {out['sandbox_mode']} mode, {conf.workers} workers)"
    )
    print(format_table(out["rows"]))
    print(f"\nmetrics: {out['metrics_path']}\nsamples: {out['samples_path']}\nrun info: {out['info_path']}")
    print(f"timings: {out['timings']}")


def main(argv: list[str] | None = None) -> None:
    run_cli(
        sys.argv[1:] if argv is None else argv,
        help_text=help_text,
        compose=compose_all,
        run_one=_run_one,
        show=lambda conf: OmegaConf.to_yaml(OmegaConf.structured(conf)),
    )


if __name__ == "__main__":
    main()
