# Evaluation: sample (with inline grading) -> metrics, per (model, variant). The math evaluator resumes from
# stored samples, so the metrics rule re-reads them without sampling again. Code, agents (Table 3) and BFCL
# (Table 4) write their metrics in one job each.


def _list(xs):
    return "[" + ",".join(xs) + "]"


def evaluator_command(module, wildcards, part, extra):
    """The one command builder of every evaluation rule: `python -m <module>` on the backbone (by name) or the
    trained folder, labelled (model, variant) in the metrics table; run_name and results_dir put its outputs under
    results/{samples,metrics}/<profile>/<model>/<variant>/<part>/."""
    w = wildcards
    overrides = [f"model={w.model}"]
    if w.variant != "base":
        overrides.append(f"checkpoint={checkpoint_of(w.model, w.variant)}")
    overrides += [f"method={w.variant}", f"model_name={w.model}", f"run_name={PNAME}/{w.model}/{w.variant}/{part}",
                  "results_dir=results"] + list(extra)
    return f"{PY} -m {module} " + " ".join(f"'{o}'" for o in overrides)


def math_command(wildcards, part):
    spec = P["evals"][part]
    extra = [f"benchmarks={_list(spec['benchmarks'])}"] + list(spec.get("overrides", []))
    return evaluator_command("evaluators.math", wildcards, part, extra)


def trained_model_input(wildcards):
    """The trained model folder an evaluation loads (none for the backbone). Every rule that names the model's
    folder on its command line takes it as input, so a temporary final_model/ lives until they have all run."""
    if wildcards.variant == "base":
        return []
    return f"{run_dir(wildcards.model, wildcards.variant)}/final_model"


# Evaluations first: a finished training's model is evaluated (and, when temporary, deleted) before the next
# training starts, which bounds the disk the DAG holds at once.
EVAL_PRIORITY = 10


for _part, _spec in P["evals"].items():

    rule:
        name:
            f"sample_{_part}"
        input:
            trained_model_input,
        output:
            [f"results/samples/{PNAME}/{{model}}/{{variant}}/{_part}/{b}.jsonl" for b in _spec["benchmarks"]],
        log:
            f"results/logs/{PNAME}/sample_{_part}/{{model}}/{{variant}}.log",
        params:
            cmd=lambda wildcards, _p=_part: math_command(wildcards, _p),
        priority: EVAL_PRIORITY
        threads: JOB_THREADS
        resources:
            gpu=1 if "engine=vllm" in _spec.get("overrides", []) else 0,
        shell:
            THREAD_ENV + " {params.cmd} > {log} 2>&1"

    # Re-reads the stored samples (no model is loaded when none is missing): runs where Snakemake runs, never
    # submitted to the cluster.
    rule:
        name:
            f"metrics_{_part}"
        localrule: True
        input:
            samples=[f"results/samples/{PNAME}/{{model}}/{{variant}}/{_part}/{b}.jsonl" for b in _spec["benchmarks"]],
            model=trained_model_input,  # the evaluator checks the samples were drawn from this very model
        output:
            f"results/metrics/{PNAME}/{{model}}/{{variant}}/{_part}/metrics.csv",
        log:
            f"results/logs/{PNAME}/metrics_{_part}/{{model}}/{{variant}}.log",
        params:
            cmd=lambda wildcards, _p=_part: math_command(wildcards, _p),
        priority: EVAL_PRIORITY
        shell:
            THREAD_ENV + " {params.cmd} > {log} 2>&1"


if P.get("code"):

    rule evaluate_code:
        priority: EVAL_PRIORITY
        input:
            trained_model_input,
        output:
            f"results/metrics/{PNAME}/{{model}}/{{variant}}/code/{{bench}}.csv",
        log:
            f"results/logs/{PNAME}/code/{{model}}/{{variant}}/{{bench}}.log",
        params:
            cmd=lambda w: evaluator_command("evaluators.code", w, "code",
                                            [f"benchmark={w.bench}"] + list(P["code"].get("overrides") or [])),
        resources:
            gpu=1,
        shell:
            "{params.cmd} > {log} 2>&1"


def model_job_gpus(overrides):
    """One GPU per agent / BFCL job (vLLM or transformers on CUDA) unless the profile runs it on the CPU."""
    return 0 if "device=cpu" in overrides else 1


if P.get("agents"):

    def agent_overrides(env):
        """env=<env>, the profile's agents.overrides, then agents.env_overrides.<env> (e.g. its data_dir)."""
        spec = P["agents"]
        return [f"env={env}"] + list(spec.get("overrides") or []) + list((spec.get("env_overrides") or {}).get(env) or [])

    rule evaluate_agents:
        priority: EVAL_PRIORITY
        input:
            trained_model_input,
        output:
            f"results/metrics/{PNAME}/{{model}}/{{variant}}/agents/{{agent_env}}.csv",
        log:
            f"results/logs/{PNAME}/agents/{{model}}/{{variant}}/{{agent_env}}.log",
        params:
            cmd=lambda w: evaluator_command("evaluators.agents", w, "agents", agent_overrides(w.agent_env)),
        threads: JOB_THREADS
        resources:
            gpu=lambda w: model_job_gpus(agent_overrides(w.agent_env)),
        shell:
            THREAD_ENV + " {params.cmd} > {log} 2>&1"


if P.get("bfcl"):

    rule evaluate_bfcl:
        priority: EVAL_PRIORITY
        input:
            trained_model_input,
        output:
            f"results/metrics/{PNAME}/{{model}}/{{variant}}/bfcl/{{subset}}/bfcl.csv",
        log:
            f"results/logs/{PNAME}/bfcl/{{model}}/{{variant}}/{{subset}}.log",
        params:
            cmd=lambda w: evaluator_command("evaluators.bfcl", w, f"bfcl/{w.subset}",
                                            [f"subset={w.subset}"] + list(P["bfcl"].get("overrides") or [])),
        threads: JOB_THREADS
        resources:
            gpu=model_job_gpus(P["bfcl"].get("overrides") or []),
        shell:
            THREAD_ENV + " {params.cmd} > {log} 2>&1"
