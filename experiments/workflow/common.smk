# Configuration of the DAG: the profile (experiments/profile/<name>.yaml) and an optional ablation
# (experiments/ablation/<name>.yaml), validated before any rule runs.
import shlex
import sys
from pathlib import Path

import yaml

BASE = Path(workflow.basedir)  # the repository (configs); outputs go to the working directory (-d)
PROFILE_DIR = BASE / "experiments" / "profile"
ABLATION_DIR = BASE / "experiments" / "ablation"
VERL_PROFILE_DIR = BASE / "experiments" / "verl" / "profile"
PROFILE_KEYS = {"keep_final_models", "profile", "models", "methods", "evaluate_base", "train", "evals", "passk", "code", "agents", "bfcl", "ablation",
                "job_threads", "python"}


def _load_yaml(path, kind, valid_dir):
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in valid_dir.glob("*.yaml")))
        raise ValueError(f"unknown {kind} {path.stem!r}; valid: {valid}")
    return yaml.safe_load(path.read_text()) or {}


def load_profile(name):
    prof = _load_yaml(PROFILE_DIR / f"{name}.yaml", "profile", PROFILE_DIR)
    unknown = sorted(set(prof) - PROFILE_KEYS)
    missing = sorted({"profile", "models", "methods", "train", "evals"} - set(prof))
    if unknown or missing:
        raise ValueError(f"{PROFILE_DIR / (name + '.yaml')}: unknown keys {unknown}, missing keys {missing}")
    for part, spec in prof["evals"].items():
        bad = sorted(set(spec) - {"benchmarks", "overrides", "table1"})
        if bad or not spec.get("benchmarks"):
            raise ValueError(f"{PROFILE_DIR / (name + '.yaml')}: evals.{part}: unknown keys {bad} or no benchmarks")
    if prof.get("passk") and prof["passk"] not in prof["evals"]:
        raise ValueError(f"{PROFILE_DIR / (name + '.yaml')}: passk={prof['passk']!r} is not one of evals {sorted(prof['evals'])}")
    _check_section(prof, "agents", "envs", AGENT_ENVS, {"envs", "overrides", "env_overrides"}, name)
    _check_section(prof, "bfcl", "categories", BFCL_CATEGORIES, {"categories", "overrides"}, name)
    if "python" in prof and not (isinstance(prof["python"], str) and prof["python"].strip()):
        raise ValueError(f"{PROFILE_DIR / (name + '.yaml')}: python: expected an interpreter path, got {prof['python']!r}")
    return prof


# Names the agent and BFCL evaluators know and Tables 3 and 4 read (evaluators/agents/registry.py ENVS without
# textworld, evaluators/bfcl/data.py CATEGORIES, in the paper's column order).
AGENT_ENVS = ("alfworld", "webshop")
BFCL_CATEGORIES = ("base", "miss_func", "miss_param", "long_context")
# Evaluator settings the rules set themselves (outputs are found by run_name, results_dir and format).
RULE_SET_KEYS = {"model", "checkpoint", "method", "model_name", "run_name", "results_dir", "format", "env", "subset"}


def _check_section(prof, section, names_key, valid, keys, name):
    """agents / bfcl: null, or a mapping with the allowed keys, a non-empty list of known names and override
    lists that leave the rule's own settings alone; errors name the profile file and the bad key."""
    spec = prof.get(section)
    where = f"{PROFILE_DIR / (name + '.yaml')}: {section}"
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: expected null or a mapping with keys {sorted(keys)}, got {spec!r}")
    bad = sorted(set(spec) - keys)
    if bad:
        raise ValueError(f"{where}: unknown keys {bad}; allowed: {sorted(keys)}")
    names = spec.get(names_key)
    if not isinstance(names, list) or not names:
        raise ValueError(f"{where}.{names_key}: expected a non-empty list of {list(valid)}, got {names!r}")
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise ValueError(f"{where}.{names_key}: unknown names {unknown}; allowed: {list(valid)}")
    if len(set(names)) != len(names):
        raise ValueError(f"{where}.{names_key}: names repeated in {names}")
    per_name = spec.get("env_overrides") or {}  # agents only: overrides of one environment (e.g. its data_dir)
    if not isinstance(per_name, dict) or any(k not in names for k in per_name):
        raise ValueError(f"{where}.env_overrides: expected a mapping from names in {section}.{names_key} {names} to "
                         f"override lists, got {per_name!r}")
    lists = {"overrides": spec.get("overrides") or []}
    lists.update({f"env_overrides.{k}": v or [] for k, v in per_name.items()})
    for key, overrides in lists.items():
        if not isinstance(overrides, list) or not all(isinstance(o, str) and "=" in o for o in overrides):
            raise ValueError(f"{where}.{key}: expected a list of key=value overrides, got {overrides!r}")
        taken = sorted({o.split("=", 1)[0].lstrip("+~") for o in overrides} & RULE_SET_KEYS)
        if taken:
            raise ValueError(f"{where}.{key}: {taken} are set by the workflow's rules")


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
