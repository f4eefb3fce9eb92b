# Evaluation of each domain's policies on that domain's benchmarks: math (sample with inline grading -> metrics;
# the metrics rule re-reads the stored samples without sampling again), code, agents (Table 3) and BFCL (Table 4),
# per (domain, model, variant).


def _list(xs):
    return "[" + ",".join(xs) + "]"


def evaluator_command(module, domain, wildcards, part, extra):
    """The one command builder of every evaluation rule: `python -m <module>` on the backbone (by name) or the
    trained folder, labelled (model, variant) in the metrics table; run_name and results_dir put its outputs under
    results/{samples,metrics}/<profile>/<domain>/<model>/<variant>/s<seed>/<part>/."""
    w = wildcards
    overrides = [f"model={w.model}"]
    if not is_untrained(domain, w.model, w.variant):
        overrides.append(f"checkpoint={checkpoint_of(domain, w.model, w.variant, w.seed)}")
    overrides += [f"method={w.variant}", f"model_name={w.model}",
                  f"run_name={PNAME}/{domain}/{w.model}/{w.variant}/s{w.seed}/{part}", "results_dir=results"]
    # the seed last: the sampling seed of this evaluation is the training seed of the policy it evaluates
    overrides += list(extra) + [f"seed={w.seed}"]
    return f"{PY} -m {module} " + " ".join(f"'{o}'" for o in overrides)


def math_command(domain, wildcards, part):
    spec = DOMAINS[domain]["evals"][part]
    extra = [f"benchmarks={_list(spec['benchmarks'])}"] + list(spec.get("overrides", []))
    return evaluator_command("evaluators.math", domain, wildcards, part, extra)


def model_input(domain, wildcards):
    """The trained model folder an evaluation loads (none for an untrained variant). Every rule that names the
    model's folder on its command line takes it as input, so a temporary final_model/ lives until they have all
    run."""
    w = wildcards
    if is_untrained(domain, w.model, w.variant):
        return []
    return f"{run_dir(domain, w.model, w.variant, w.seed)}/final_model"


def trained_model_input(wildcards):
    return model_input(wildcards.domain, wildcards)


def model_job_gpus(overrides):
    """One GPU per model job (vLLM or transformers on CUDA) unless the profile runs it on the CPU."""
    return 0 if "device=cpu" in overrides else 1


# Evaluations first: a finished training's model is evaluated (and, when temporary, deleted) before the next
# training starts, which bounds the disk the DAG holds at once.
EVAL_PRIORITY = 10
ROOT = f"{PNAME}/{{domain}}/{{model}}/{{variant}}/s{{seed}}"
_PART_NAMES = [part for dom in DOMAINS.values() for part in dom.get("evals") or {}]


def math_rule_name(kind, domain, part):
    """`sample_<part>` / `metrics_<part>`, with the domain in the name when two domains have a part of that name."""
    return f"{kind}_{part}" if _PART_NAMES.count(part) == 1 else f"{kind}_{domain}_{part}"


for _domain, _dom in DOMAINS.items():
    for _part, _spec in (_dom.get("evals") or {}).items():
        _root = f"{PNAME}/{_domain}/{{model}}/{{variant}}/s{{seed}}/{_part}"

        rule:
            name:
                math_rule_name("sample", _domain, _part)
            input:
                lambda w, _d=_domain: model_input(_d, w),
            output:
                [f"results/samples/{_root}/{b}.jsonl" for b in _spec["benchmarks"]],
            log:
                f"results/logs/{PNAME}/sample_{_part}/{_domain}/{{model}}/{{variant}}/s{{seed}}.log",
            params:
                cmd=lambda wildcards, _p=_part, _d=_domain: math_command(_d, wildcards, _p),
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
                math_rule_name("metrics", _domain, _part)
            localrule: True
            input:
                samples=[f"results/samples/{_root}/{b}.jsonl" for b in _spec["benchmarks"]],
                model=lambda w, _d=_domain: model_input(_d, w),  # the evaluator checks the samples' model
            output:
                f"results/metrics/{_root}/metrics.csv",
            log:
                f"results/logs/{PNAME}/metrics_{_part}/{_domain}/{{model}}/{{variant}}/s{{seed}}.log",
            params:
                cmd=lambda wildcards, _p=_part, _d=_domain: math_command(_d, wildcards, _p),
            priority: EVAL_PRIORITY
            shell:
                THREAD_ENV + " {params.cmd} > {log} 2>&1"


rule evaluate_code:
    priority: EVAL_PRIORITY
    input:
        trained_model_input,
    output:
        f"results/metrics/{ROOT}/code/{{bench}}.csv",
    log:
        f"results/logs/{PNAME}/code/{{domain}}/{{model}}/{{variant}}/s{{seed}}/{{bench}}.log",
    params:
        cmd=lambda w: evaluator_command("evaluators.code", w.domain, w, "code",
                                        [f"benchmark={w.bench}"] + list(DOMAINS[w.domain]["code"].get("overrides") or [])),
    resources:
        gpu=lambda w: model_job_gpus(DOMAINS[w.domain]["code"].get("overrides") or []),
    shell:
        "{params.cmd} > {log} 2>&1"


def agent_overrides(domain, env):
    """env=<env>, the domain's agents.overrides, then agents.env_overrides.<env> (e.g. its data_dir)."""
    spec = DOMAINS[domain]["agents"]
    return [f"env={env}"] + list(spec.get("overrides") or []) + list((spec.get("env_overrides") or {}).get(env) or [])


rule evaluate_agents:
    priority: EVAL_PRIORITY
    input:
        trained_model_input,
    output:
        f"results/metrics/{ROOT}/agents/{{agent_env}}.csv",
    log:
        f"results/logs/{PNAME}/agents/{{domain}}/{{model}}/{{variant}}/s{{seed}}/{{agent_env}}.log",
    params:
        cmd=lambda w: evaluator_command("evaluators.agents", w.domain, w, "agents", agent_overrides(w.domain, w.agent_env)),
    threads: JOB_THREADS
    resources:
        gpu=lambda w: model_job_gpus(agent_overrides(w.domain, w.agent_env)),
    shell:
        THREAD_ENV + " {params.cmd} > {log} 2>&1"


def bfcl_overrides(domain, subset):
    return [f"subset={subset}"] + list(DOMAINS[domain]["bfcl"].get("overrides") or [])


rule evaluate_bfcl:
    priority: EVAL_PRIORITY
    input:
        trained_model_input,
    output:
        f"results/metrics/{ROOT}/bfcl/{{subset}}/bfcl.csv",
    log:
        f"results/logs/{PNAME}/bfcl/{{domain}}/{{model}}/{{variant}}/s{{seed}}/{{subset}}.log",
    params:
        cmd=lambda w: evaluator_command("evaluators.bfcl", w.domain, w, f"bfcl/{w.subset}", bfcl_overrides(w.domain, w.subset)),
    threads: JOB_THREADS
    resources:
        gpu=lambda w: model_job_gpus(bfcl_overrides(w.domain, w.subset)),
    shell:
        THREAD_ENV + " {params.cmd} > {log} 2>&1"
