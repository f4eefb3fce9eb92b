# Training: one run per (model, trained variant). Local trainer on CPU; veRL launcher in the GPU profiles.
import os

VERL = P["train"].get("backend", "local") == "verl"
VERL_CLUSTER = P["train"].get("cluster", "paper")


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


if VERL:
    _cluster = verl_cluster_settings(VERL_CLUSTER)
    if int(_cluster.get("nnodes", 1)) != 1:
        # One Snakemake job is one SLURM allocation on one node; a multi-node Ray cluster needs the hand-written
        # sbatch script of docs/cluster.md (ray start on every node), not the DAG.
        raise ValueError(f"{PROFILE_DIR / (PNAME + '.yaml')}: train.cluster={VERL_CLUSTER!r} has nnodes="
                         f"{_cluster['nnodes']}; the DAG trains on one node (see docs/cluster.md, SLURM)")
    TRAIN_GPUS = int(_cluster.get("gpus_per_node", 8))
else:
    TRAIN_GPUS = 0


def abs_run_dir(model, variant):
    """The run directory as an absolute path. Jobs run in Snakemake's working directory (-d), while the veRL
    launcher resolves relative paths against the repository and the checkpoint merger against its cwd: both get
    this absolute path, so they agree whatever -d is."""
    return os.path.abspath(run_dir(model, variant))


def train_command(wildcards):
    out_dir = abs_run_dir(wildcards.model, wildcards.variant) if VERL else run_dir(wildcards.model, wildcards.variant)
    overrides = method_overrides(wildcards.variant) + [
        f"model={wildcards.model}", f"task={P['train']['task']}", f"trainer={P['train']['trainer']}",
        f"output_dir={out_dir}",
        f"run_name={PNAME}-{wildcards.model}-{wildcards.variant}",
    ] + list(P["train"].get("overrides", []))
    args = " ".join(f"'{o}'" for o in overrides)
    if not VERL:
        return f"{PY} -m resrl.train {args}"
    # veRL on a GPU node (Ray's driver and workers run cluster.python = this DAG's interpreter), then its FSDP
    # checkpoint converted to final_model/ (what the evaluators load) by the same interpreter's veRL merger
    return (f"{PY} -m resrl.backends.verl.launch cluster={VERL_CLUSTER} {shlex.quote('cluster.python=' + PY_PATH)} "
            f"{args} && {PY} -m resrl.backends.verl.checkpoint {shlex.quote(out_dir)} --python {PY}")


# The trained policy (what the evaluators load). With `keep_final_models: false` (the tiny profile: 0.54 GB per
# SmolLM2 run) it is a temporary output, deleted once every evaluation of it has finished; `train.done` (kept)
# marks the run as trained for the training-curve and diagnostics figures.
_FINAL = directory(f"results/runs/{PNAME}/{{model}}/{{variant}}/final_model")


rule train:
    output:
        model=_FINAL if P.get("keep_final_models", True) else temp(_FINAL),
        done=touch(f"results/runs/{PNAME}/{{model}}/{{variant}}/train.done"),
    log:
        f"results/logs/{PNAME}/train/{{model}}/{{variant}}.log",
    params:
        cmd=train_command,
    threads: JOB_THREADS
    # SLURM (snakemake-executor-plugin-slurm): `gpu` becomes sbatch --gpus, cpus_per_task --cpus-per-task,
    # mem_mb --mem, runtime (minutes) --time; the SLURM executor profile adds partition and account.
    resources:
        gpu=TRAIN_GPUS,
        cpus_per_task=8 * TRAIN_GPUS if VERL else JOB_THREADS,
        mem_mb=max(64000, 25000 * TRAIN_GPUS) if VERL else 12000,
        runtime=int(P["train"].get("runtime", 24 * 60)) if VERL else 60,
    shell:
        THREAD_ENV + " {params.cmd} > {log} 2>&1"
