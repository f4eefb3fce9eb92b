# Training: one run per (model, trained variant). Local trainer on CPU; veRL launcher in the paper profile.


def train_command(wildcards):
    overrides = method_overrides(wildcards.variant) + [
        f"model={wildcards.model}", f"task={P['train']['task']}", f"trainer={P['train']['trainer']}",
        f"output_dir={run_dir(wildcards.model, wildcards.variant)}",
        f"run_name={PNAME}-{wildcards.model}-{wildcards.variant}",
    ] + list(P["train"].get("overrides", []))
    args = " ".join(f"'{o}'" for o in overrides)
    if P["train"].get("backend", "local") == "local":
        return f"{PY} -m resrl.train {args}"
    # veRL on a GPU cluster, then its FSDP checkpoint converted to final_model/ (what the evaluators load)
    return (f"{PY} -m resrl.backends.verl.launch profile={P['train'].get('cluster', 'paper')} {args} && "
            f"{PY} -m resrl.backends.verl.checkpoint {run_dir(wildcards.model, wildcards.variant)}")


rule train:
    output:
        model=f"results/runs/{PNAME}/{{model}}/{{variant}}/final_model/config.json",
    log:
        f"results/logs/{PNAME}/train/{{model}}/{{variant}}.log",
    params:
        cmd=train_command,
    threads: JOB_THREADS
    resources:
        gpus=8 if P["train"].get("backend") == "verl" else 0,
        mem_mb=200000 if P["train"].get("backend") == "verl" else 12000,
        runtime=24 * 60 if P["train"].get("backend") == "verl" else 60,
    shell:
        THREAD_ENV + " {params.cmd} > {log} 2>&1"
