# Configuration of the DAG: the profile (experiments/profile/<name>.yaml) and an optional ablation
# (experiments/ablation/<name>.yaml), validated before any rule runs.
import shlex
import sys
from pathlib import Path

import yaml

BASE = Path(workflow.basedir)  # the repository (configs); outputs go to the working directory (-d)
PROFILE_DIR = BASE / "experiments" / "profile"
ABLATION_DIR = BASE / "experiments" / "ablation"
VERL_CLUSTER_DIR = BASE / "experiments" / "verl" / "cluster"
PROFILE_SCHEMA = BASE / "workflow" / "schemas" / "profile.schema.yaml"


def _load_yaml(path, kind, valid_dir):
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in valid_dir.glob("*.yaml")))
        raise ValueError(f"unknown {kind} {path.stem!r}; valid: {valid}")
    return yaml.safe_load(path.read_text()) or {}


def load_profile(name):
    """experiments/profile/<name>.yaml, validated against workflow/schemas/profile.schema.yaml (structure, types,
    known names), then the cross-field rules a schema cannot state; every error names the file."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    path = PROFILE_DIR / f"{name}.yaml"
    prof = _load_yaml(path, "profile", PROFILE_DIR)
    try:
        validate(prof, str(PROFILE_SCHEMA))
    except WorkflowError as err:
        raise ValueError(f"{path}: {_schema_error(err)}") from None
    if prof.get("passk") and prof["passk"] not in prof["evals"]:
        raise ValueError(f"{path}: passk={prof['passk']!r} is not one of evals {sorted(prof['evals'])}")
    _check_rule_keys(prof, path)
    return prof


def _schema_error(err):
    """jsonschema's message in one line, with the path of the bad field (train.backend, agents.envs.0, ...)."""
    import jsonschema

    cause = None
    for e in (err, err.__context__, *getattr(err, "args", ())):  # snakemake raises it while handling jsonschema's
        if isinstance(e, jsonschema.ValidationError):
            cause = e
    if isinstance(cause, jsonschema.ValidationError):
        where = ".".join(str(p) for p in cause.absolute_path) or "(top level)"
        return f"{where}: {cause.message.splitlines()[0]}"
    return str(err).splitlines()[0]


# Names the agent and BFCL evaluators know and Tables 3 and 4 read (evaluators/agents/registry.py ENVS without
# textworld, evaluators/bfcl/data.py CATEGORIES, in the paper's column order).
AGENT_ENVS = ("alfworld", "webshop")
BFCL_CATEGORIES = ("base", "miss_func", "miss_param", "long_context")
# Evaluator settings the rules set themselves (outputs are found by run_name, results_dir and format).
RULE_SET_KEYS = {"model", "checkpoint", "method", "model_name", "run_name", "results_dir", "format", "env", "subset"}


def _check_rule_keys(prof, path):
    """Evaluator overrides must leave alone what the rules set themselves (outputs are found by them)."""
    lists = {f"evals.{k}.overrides": v.get("overrides") for k, v in prof["evals"].items()}
    for section in ("code", "agents", "bfcl"):
        spec = prof.get(section) or {}
        lists[f"{section}.overrides"] = spec.get("overrides")
        for env, overrides in (spec.get("env_overrides") or {}).items():
            lists[f"{section}.env_overrides.{env}"] = overrides
    for key, overrides in lists.items():
        taken = sorted({o.split("=", 1)[0].lstrip("+~") for o in overrides or []} & RULE_SET_KEYS)
        if taken:
            raise ValueError(f"{path}: {key}: {taken} are set by the workflow's rules")
    for env in (prof.get("agents") or {}).get("env_overrides") or {}:
        if env not in prof["agents"]["envs"]:
            raise ValueError(f"{path}: agents.env_overrides.{env}: {env!r} is not in agents.envs {prof['agents']['envs']}")


P = load_profile(str(config.get("profile", "tiny")))


def resolve_python(value):
    """The interpreter every rule runs (the profile's `python`, or `--config python=...`): a path relative to the
    repository (e.g. .venv-cluster/bin/python, the cluster environment of scripts/setup_cluster_env.sh) is made
    absolute, since jobs run in the working directory (-d); a bare command name (python3) is left to PATH; unset:
    the interpreter running Snakemake."""
    if not value:
        return sys.executable
    value = str(value)
    if "/" not in value:
        return value
    return str(Path(value) if Path(value).is_absolute() else BASE / value)


# PY_PATH: the interpreter; PY: the same, quoted for the shell. Used by every rule, by the veRL launcher
# (profile.python, so Ray's driver and workers run it too) and by the checkpoint merger (--python).
PY_PATH = resolve_python(config.get("python", P.get("python")))
PY = shlex.quote(PY_PATH)
# CPU threads of each model job (train, sample). When the profile sets job_threads, torch/OpenMP/MKL get exactly
# that many, so `--cores 2` with job_threads 1 runs two jobs side by side instead of one job on two threads
# (tiny profile); otherwise jobs reserve 2 cores and keep the libraries' own defaults (GPU profiles).
JOB_THREADS = int(P.get("job_threads", 2))
THREAD_ENV = f"OMP_NUM_THREADS={JOB_THREADS} MKL_NUM_THREADS={JOB_THREADS}" if "job_threads" in P else ""
PNAME = P["profile"]
ABL_NAME = config.get("ablation", P.get("ablation"))
ABL = _load_yaml(ABLATION_DIR / f"{ABL_NAME}.yaml", "ablation", ABLATION_DIR) if ABL_NAME else None


def _fmt(v):
    return "-".join(str(x) for x in v) if isinstance(v, list) else str(v)


def ablation_variants():
    """name -> Hydra overrides, e.g. 'resrl-rank-8' -> ['method=resrl', 'method.rank=8']."""
    if not ABL:
        return {}
    fields = ABL.get("fields") or [ABL["field"]]
    out = {}
    for value in ABL["values"]:
        vals = value if len(fields) > 1 else [value]
        out[f"resrl-{ABL['name']}-{_fmt(value)}"] = ["method=resrl"] + [f"{f}={v}" for f, v in zip(fields, vals)]
    return out


ABL_VARIANTS = ablation_variants()
# BFCL runs per (model, variant): one `subset=all` run when the profile lists all four categories (only then does
# the evaluator write the overall row, bfcl_multi_turn), else one run per listed category.
if P.get("bfcl"):
    BFCL_SUBSETS = ["all"] if set(P["bfcl"]["categories"]) == set(BFCL_CATEGORIES) else list(P["bfcl"]["categories"])
else:
    BFCL_SUBSETS = []
TRAINED = list(P["methods"]) + list(ABL_VARIANTS)
VARIANTS = (["base"] if P.get("evaluate_base", True) else []) + TRAINED


def method_overrides(variant):
    return ABL_VARIANTS.get(variant, [f"method={variant}"])


def method_label(variant):
    return variant if variant in P["methods"] or variant == "base" else variant


def run_dir(model, variant):
    return f"results/runs/{PNAME}/{model}/{variant}"


def checkpoint_of(model, variant):
    """What the evaluators load: the model name for the untrained backbone, else the trained folder."""
    return model if variant == "base" else f"{run_dir(model, variant)}/final_model"


wildcard_constraints:
    model="[A-Za-z0-9_.\-]+",
    variant="[A-Za-z0-9_.\-]+",
    bench="[A-Za-z0-9_.\-]+",
    agent_env="|".join(AGENT_ENVS),
    subset="all|" + "|".join(BFCL_CATEGORIES),
