# Training: one run per (domain, model, trained variant), on the domain's task. Local trainer on CPU; veRL launcher
# in the GPU profiles. A preflight job runs first: it refuses placeholders and missing training data before any
# training starts (a dry run still lists the whole DAG).
import os


def verl_cluster_settings(name, seen=()):
    """experiments/verl/cluster/<name>.yaml with its Hydra `defaults` parents merged in (the fields the DAG needs:
    nnodes, gpus_per_node)."""
    path = VERL_CLUSTER_DIR / f"{name}.yaml"
    if not path.is_file() or name in seen:
        valid = ", ".join(sorted(p.stem for p in VERL_CLUSTER_DIR.glob("*.yaml")))
        raise ValueError(f"{PROFILE_DIR / (PNAME + '.yaml')}: train.cluster={name!r} is not a veRL cluster setting "
                         f"(experiments/verl/cluster/); valid: {valid}")
    raw = yaml.safe_load(path.read_text()) or {}
    merged = {}
    for parent in raw.get("defaults") or []:
        if isinstance(parent, str) and parent != "_self_":
            merged.update(verl_cluster_settings(parent, (*seen, name)))
    merged.update({k: v for k, v in raw.items() if k != "defaults"})
    return merged


def _train_gpus(domain):
    """GPUs of one training job of the domain: the veRL cluster's GPUs per node; the local trainer: 1 when it runs
    on CUDA (trainer.device=cuda...), else 0."""
    t = domain_train(domain)
    if t["backend"] != "verl":
        return 1 if any(o.startswith("trainer.device=cuda") for o in t["overrides"]) else 0
    cluster = verl_cluster_settings(t.get("cluster", "paper"))
    if int(cluster.get("nnodes", 1)) != 1:
        # One Snakemake job is one SLURM allocation on one node; a multi-node Ray cluster needs the hand-written
        # sbatch script of docs/cluster.md (ray start on every node), not the DAG.
        raise ValueError(f"{PROFILE_DIR / (PNAME + '.yaml')}: domains.{domain}: train.cluster={t.get('cluster')!r} has "
                         f"nnodes={cluster['nnodes']}; the DAG trains on one node (see docs/cluster.md, SLURM)")
    return int(cluster.get("gpus_per_node", 8))


TRAIN_GPUS = {d: _train_gpus(d) for d in DOMAINS}  # checked at DAG start, for every domain
USES_VERL = any(domain_train(d)["backend"] == "verl" for d in DOMAINS)


def abs_run_dir(domain, model, variant, seed):
    """The run directory as an absolute path. Jobs run in Snakemake's working directory (-d), while the veRL
    launcher resolves relative paths against the repository and the checkpoint merger against its cwd: both get
    this absolute path, so they agree whatever -d is."""
    return os.path.abspath(run_dir(domain, model, variant, seed))


def train_command(wildcards):
    w = wildcards
    t = domain_train(w.domain)
    verl = t["backend"] == "verl"
    where = (w.domain, w.model, w.variant, w.seed)
    out_dir = abs_run_dir(*where) if verl else run_dir(*where)
    overrides = method_overrides(w.variant) + [
        f"model={w.model}", f"task={DOMAINS[w.domain]['task']}", f"trainer={t.get('trainer', 'cpu')}",
        f"output_dir={out_dir}",
        f"run_name={PNAME}-{w.domain}-{w.model}-{w.variant}-s{w.seed}",
    ] + list(t["overrides"]) + [f"trainer.seed={w.seed}"]  # last: the DAG's seed wins over a profile override
    args = " ".join(f"'{o}'" for o in overrides)
    if not verl:
        return f"{PY} -m resrl.train {args}"
    # veRL on a GPU node (Ray's driver and workers run cluster.python = this DAG's interpreter), then its FSDP
    # checkpoint converted to final_model/ (what the evaluators load) by the same interpreter's veRL merger
    return (f"{PY} -m resrl.backends.verl.launch cluster={t.get('cluster', 'paper')} "
            f"{shlex.quote('cluster.python=' + PY_PATH)} {args} && "
            f"{PY} -m resrl.backends.verl.checkpoint {shlex.quote(out_dir)} --python {PY}")


PREFLIGHT = f"results/logs/{PNAME}/preflight.ok"


rule preflight:
    """Placeholders left in the profile (`/path/to/...`) and missing training data stop the DAG here, before any
    training (python -m resrl.preflight names each and the command that fetches the data)."""
    localrule: True
    output:
        touch(PREFLIGHT),
    log:
        f"results/logs/{PNAME}/preflight.log",
    shell:
        "{PY} -m resrl.preflight --profile {PROFILE_DIR}/{PNAME}.yaml > {log} 2>&1"


# The trained policy (what the evaluators load). With `keep_final_models: false` (the tiny profile: 0.54 GB per
# SmolLM2 run) it is a temporary output, deleted once every evaluation of it has finished; `train.done` (kept)
# marks the run as trained for the training-curve and diagnostics figures.
_FINAL = directory(f"results/runs/{PNAME}/{{domain}}/{{model}}/{{variant}}/s{{seed}}/final_model")


rule train:
    input:
        # ancient: the check must have passed, but its marker's age never makes a finished training stale (a
        # fresh clone of a committed study has no marker of its own: the check reruns, the trainings do not)
        ancient(PREFLIGHT),
    output:
        model=_FINAL if P.get("keep_final_models", True) else temp(_FINAL),
        done=touch(f"results/runs/{PNAME}/{{domain}}/{{model}}/{{variant}}/s{{seed}}/train.done"),
    log:
        f"results/logs/{PNAME}/train/{{domain}}/{{model}}/{{variant}}/s{{seed}}.log",
    params:
        cmd=train_command,
    threads: JOB_THREADS
    # SLURM (snakemake-executor-plugin-slurm): `gpu` becomes sbatch --gpus, cpus_per_task --cpus-per-task,
    # mem_mb --mem, runtime (minutes) --time; the SLURM executor profile adds partition and account.
    resources:
        gpu=lambda w: TRAIN_GPUS[w.domain],
        cpus_per_task=lambda w: 8 * TRAIN_GPUS[w.domain] if TRAIN_GPUS[w.domain] else JOB_THREADS,
        mem_mb=lambda w: max(64000, 25000 * TRAIN_GPUS[w.domain]) if TRAIN_GPUS[w.domain] else 12000,
        runtime=lambda w: int(domain_train(w.domain).get("runtime", 24 * 60)) if TRAIN_GPUS[w.domain] else 60,
    shell:
        THREAD_ENV + " {params.cmd} > {log} 2>&1"
