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
    for dname, dom in prof["domains"].items():
        where = f"{path}: domains.{dname}"
        if dom.get("passk") and dom["passk"] not in (dom.get("evals") or {}):
            raise ValueError(f"{where}.passk={dom['passk']!r} is not one of its evals {sorted(dom.get('evals') or {})}")
        _check_rule_keys(dom, where)
        _check_configs(dom, where)
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


def _check_rule_keys(dom, where):
    """Evaluator overrides must leave alone what the rules set themselves (outputs are found by them)."""
    lists = {f"evals.{k}.overrides": v.get("overrides") for k, v in (dom.get("evals") or {}).items()}
    for section in ("code", "agents", "bfcl"):
        spec = dom.get(section) or {}
        lists[f"{section}.overrides"] = spec.get("overrides")
        for env, overrides in (spec.get("env_overrides") or {}).items():
            lists[f"{section}.env_overrides.{env}"] = overrides
    for key, overrides in lists.items():
        taken = sorted({o.split("=", 1)[0].lstrip("+~") for o in overrides or []} & RULE_SET_KEYS)
        if taken:
            raise ValueError(f"{where}.{key}: {taken} are set by the workflow's rules")
    for env in (dom.get("agents") or {}).get("env_overrides") or {}:
        if env not in dom["agents"]["envs"]:
            raise ValueError(f"{where}.agents.env_overrides.{env}: {env!r} is not in agents.envs {dom['agents']['envs']}")


def _check_configs(dom, where):
    """Every task, model and method a domain names has its config file (a typo fails here, not after training)."""
    wanted = [("task", "task", [dom["task"]]), ("models", "model", dom["models"]), ("methods", "method", dom["methods"]),
              ("published", "model", [p["model"] for p in dom.get("published") or []])]
    for field, group, names in wanted:
        folder = BASE / "experiments" / group
        for n in names:
            if not (folder / f"{n}.yaml").is_file():
                valid = ", ".join(sorted(f.stem for f in folder.glob("*.yaml")))
                raise ValueError(f"{where}.{field}: no config {n!r} in experiments/{group}/; valid: {valid}")


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
def _config_list(value):
    """`x`, `[x,y]`, `x,y` or a YAML list (from --config or the profile) -> ["x", "y"]; empty -> []."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).strip("[]").split(",") if v.strip()]


def _seeds(value):
    """The profile's `seeds` (or `--config seeds=[0,1,2]`): distinct non-negative integers, default [0]."""
    names = _config_list(value) or ["0"]
    where = f"{PROFILE_DIR / (PNAME + '.yaml')}: seeds"
    try:
        seeds = [int(v) for v in names]
    except ValueError:
        raise ValueError(f"{where}={names}: seeds must be integers") from None
    if min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ValueError(f"{where}={seeds}: seeds must be distinct non-negative integers")
    return seeds


#: Training seeds: every training and every evaluation runs once per seed (paths .../<variant>/s<seed>/).
SEEDS = _seeds(config.get("seeds", P.get("seeds")))


def _ablation_names(value):
    """`ablation=rank`, `ablation=[rank,layer]`, `ablation=rank,layer` or a YAML list -> ["rank", "layer"]."""
    return _config_list(value or None)


ABLS = [_load_yaml(ABLATION_DIR / f"{n}.yaml", "ablation", ABLATION_DIR)
        for n in _ablation_names(config.get("ablation", P.get("ablation")))]


def _fmt(v):
    """A factor value in a folder name: 8 -> 8, -2 -> -2, [0.1, 0.9] -> 0.1-0.9."""
    return "-".join(str(x) for x in v) if isinstance(v, list) else str(v)


def _method_default(field):
    """ResRL's default of `method.<field>` (its config dataclass), to reuse the main run for that value."""
    import dataclasses

    import resrl.methods as methods

    fields = {f.name: f for f in dataclasses.fields(methods.get("resrl").Config)}
    f = fields[field.removeprefix("method.")]
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def ablation_points(abl):
    """[(value, variant)] of one ablation, in the file's order: the variant trained for that value, or `resrl` (the
    main run) where the value is ResRL's default."""
    fields = abl.get("fields") or [abl["field"]]
    defaults = [_method_default(f) for f in fields]
    out = []
    for value in abl["values"]:
        vals = value if len(fields) > 1 else [value]
        is_default = all(float(v) == float(d) for v, d in zip(vals, defaults))
        out.append((value, "resrl" if is_default else f"resrl-{abl['name']}{_fmt(value)}"))
    return out


def ablation_variants():
    """name -> Hydra overrides of every ablation's non-default values, e.g. 'resrl-rank8' -> ['method=resrl',
    'method.rank=8'] ('resrl-layer-2' for layer -2)."""
    out = {}
    for abl in ABLS:
        fields = abl.get("fields") or [abl["field"]]
        for value, variant in ablation_points(abl):
            if variant != "resrl":
                vals = value if len(fields) > 1 else [value]
                out[variant] = ["method=resrl"] + [f"{f}={v}" for f, v in zip(fields, vals)]
    return out


ABL_VARIANTS = ablation_variants()
DOMAINS = P["domains"]
#: The domain an ablation varies ResRL in (the math recipe, where the paper ran its ablations).
ABL_DOMAIN = "math" if "math" in DOMAINS else next(iter(DOMAINS))


def _ablation_models():
    """The models an ablation trains: the profile's `ablation_models` (the paper profile: Qwen3-4B only, not the
    whole grid), default every model of the ablated domain."""
    models = P.get("ablation_models") or DOMAINS[ABL_DOMAIN]["models"]
    unknown = [m for m in models if m not in DOMAINS[ABL_DOMAIN]["models"]]
    if unknown:
        raise ValueError(f"{PROFILE_DIR / (PNAME + '.yaml')}: ablation_models: {unknown} are not models of domain "
                         f"{ABL_DOMAIN!r} {DOMAINS[ABL_DOMAIN]['models']}")
    return list(models)


ABL_MODELS = _ablation_models()


def domain_train(domain):
    """The domain's training settings: the profile's `train`, then the domain's own keys (overrides appended)."""
    shared, own = dict(P.get("train") or {}), dict(DOMAINS[domain].get("train") or {})
    merged = {**shared, **own}
    merged["overrides"] = list(shared.get("overrides") or []) + list(own.get("overrides") or [])
    merged.setdefault("backend", "local")
    return merged


def base_method(domain):
    """The label of the untrained backbone's rows: `base` (Backbone) unless the domain names another (ReAct)."""
    return DOMAINS[domain].get("base_method", "base")


def trained_variants(domain):
    """The domain's methods, then (in the ablated domain) the ablation variants; the main run `resrl` is trained
    for an ablation even when the profile does not list it (its default value's point)."""
    extra = []
    if domain == ABL_DOMAIN and ABLS:
        extra = ([] if "resrl" in DOMAINS[domain]["methods"] else ["resrl"]) + list(ABL_VARIANTS)
    return list(DOMAINS[domain]["methods"]) + extra


def table_pairs(domain):
    """The (model, variant) pairs the main tables and figures show: the backbone, the profile's methods and the
    published checkpoints, never the ablation variants."""
    shown = set(untrained_variants(domain) + list(DOMAINS[domain]["methods"]))
    return [(m, v) for m, v in eval_pairs(domain) if v in shown or (m, v) in published(domain)]


def untrained_variants(domain):
    evaluate = DOMAINS[domain].get("evaluate_base", P.get("evaluate_base", True))
    return [base_method(domain)] if evaluate else []


def published(domain):
    """(model, method label) of each published checkpoint the domain evaluates as it is (e.g. ToolACE)."""
    return [(p["model"], p["method"]) for p in DOMAINS[domain].get("published") or []]


def eval_pairs(domain):
    """Every (model, variant) the domain evaluates: its models x (backbone + trained), then published ones; an
    ablation variant on the ablation models only."""
    variants = untrained_variants(domain) + trained_variants(domain)
    return [(m, v) for m in DOMAINS[domain]["models"] for v in variants
            if v not in ABL_VARIANTS or m in ABL_MODELS] + published(domain)


def is_untrained(domain, model, variant):
    return variant in untrained_variants(domain) or (model, variant) in published(domain)


def bfcl_subsets(domain):
    """BFCL runs per (model, variant): one `subset=all` run when all four categories are listed (only then does the
    evaluator write the overall row, bfcl_multi_turn), else one run per listed category."""
    spec = DOMAINS[domain].get("bfcl")
    if not spec:
        return []
    return ["all"] if set(spec["categories"]) == set(BFCL_CATEGORIES) else list(spec["categories"])


def method_overrides(variant):
    return ABL_VARIANTS.get(variant, [f"method={variant}"])


def run_dir(domain, model, variant, seed):
    return f"results/runs/{PNAME}/{domain}/{model}/{variant}/s{seed}"


def checkpoint_of(domain, model, variant, seed):
    """What the evaluators load: the model name for an untrained variant, else the trained folder of that seed."""
    if is_untrained(domain, model, variant):
        return model
    return f"{run_dir(domain, model, variant, seed)}/final_model"


wildcard_constraints:
    domain="|".join(DOMAINS),
    model="[A-Za-z0-9_.\-]+",
    variant="[A-Za-z0-9_.\-]+",
    bench="[A-Za-z0-9_.\-]+",
    agent_env="|".join(AGENT_ENVS),
    subset="all|" + "|".join(BFCL_CATEGORIES),
    seed=r"\d+",
    name="|".join(abl["name"] for abl in ABLS) or "$^",  # an ablation's name (never matches without ablations)
