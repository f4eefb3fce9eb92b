# Tables and figures in paper_figures/<profile>/, read only from results/. All local rules: they run where
# Snakemake runs (the submit host under SLURM), never in a cluster job.

FIG = f"paper_figures/{PNAME}"
TABLE1_PARTS = [part for part, spec in P["evals"].items() if spec.get("table1", True)]
MATH_METRICS = [f"results/metrics/{PNAME}/{m}/{v}/{part}/metrics.csv" for m in P["models"] for v in VARIANTS
                for part in TABLE1_PARTS]
PASSK_METRICS = [f"results/metrics/{PNAME}/{m}/{v}/{P['passk']}/metrics.csv" for m in P["models"] for v in VARIANTS] if P.get("passk") else []
CODE_METRICS = [f"results/metrics/{PNAME}/{m}/{v}/code/{b}.csv" for m in P["models"] for v in VARIANTS
                for b in P["code"]["benchmarks"]] if P.get("code") else []
AGENT_METRICS = [f"results/metrics/{PNAME}/{m}/{v}/agents/{e}.csv" for m in P["models"] for v in VARIANTS
                 for e in P["agents"]["envs"]] if P.get("agents") else []
BFCL_METRICS = [f"results/metrics/{PNAME}/{m}/{v}/bfcl/{s}/bfcl.csv" for m in P["models"] for v in VARIANTS
                for s in BFCL_SUBSETS]


def report_targets():
    out = [f"{FIG}/table1.md", f"{FIG}/paper_vs_reproduced.md"]
    if P["train"].get("backend", "local") == "local":  # veRL logs to its own trackers
        out += [f"{FIG}/training_curves_{m}.png" for m in P["models"]]
        out += [f"{FIG}/diagnostics_{m}/diagnostics_summary.png" for m in P["models"]]
    if P.get("passk"):
        out.append(f"{FIG}/passk.png")
    if P.get("code"):
        out.append(f"{FIG}/table2.md")
    if P.get("agents"):
        out.append(f"{FIG}/table3.md")
    if P.get("bfcl"):
        out.append(f"{FIG}/table4.md")
    if ABL:
        out.append(f"{FIG}/ablation_{ABL['name']}.md")
    return out


rule table1:
    localrule: True
    input:
        MATH_METRICS,
    output:
        md=f"{FIG}/table1.md",
        tex=f"{FIG}/table1.tex",
    log:
        f"results/logs/{PNAME}/report/table1.log",
    shell:
        "{PY} -m paper_figures.table1 --metrics {input} --out {FIG}/table1 > {log} 2>&1"


rule table2:
    localrule: True
    input:
        CODE_METRICS,
    output:
        md=f"{FIG}/table2.md",
        tex=f"{FIG}/table2.tex",
    log:
        f"results/logs/{PNAME}/report/table2.log",
    shell:
        "{PY} -m paper_figures.table2 --metrics {input} --out {FIG}/table2 > {log} 2>&1"


rule table3:
    localrule: True
    input:
        AGENT_METRICS,
    output:
        md=f"{FIG}/table3.md",
        tex=f"{FIG}/table3.tex",
    log:
        f"results/logs/{PNAME}/report/table3.log",
    shell:
        "{PY} -m paper_figures.table3 --metrics {input} --out {FIG}/table3 > {log} 2>&1"


rule table4:
    localrule: True
    input:
        BFCL_METRICS,
    output:
        md=f"{FIG}/table4.md",
        tex=f"{FIG}/table4.tex",
    log:
        f"results/logs/{PNAME}/report/table4.log",
    shell:
        "{PY} -m paper_figures.table4 --metrics {input} --out {FIG}/table4 > {log} 2>&1"


rule ablation_table:
    localrule: True
    input:
        [f"results/metrics/{PNAME}/{m}/{v}/{part}/metrics.csv" for m in P["models"] for v in ABL_VARIANTS for part in TABLE1_PARTS],
    output:
        md=f"{FIG}/ablation_{{name}}.md",
        tex=f"{FIG}/ablation_{{name}}.tex",
    log:
        f"results/logs/{PNAME}/report/ablation_{{name}}.log",
    shell:
        "{PY} -m paper_figures.table1 --metrics {input} --out {FIG}/ablation_{wildcards.name} > {log} 2>&1"


rule passk_figure:
    localrule: True
    input:
        PASSK_METRICS,
    output:
        png=f"{FIG}/passk.png",
        pdf=f"{FIG}/passk.pdf",
    log:
        f"results/logs/{PNAME}/report/passk.log",
    shell:
        "{PY} -m paper_figures.passk --metrics {input} --out {FIG}/passk > {log} 2>&1"


rule training_curves:
    localrule: True
    input:
        lambda w: [f"{run_dir(w.model, v)}/train.done" for v in TRAINED],
    output:
        png=f"{FIG}/training_curves_{{model}}.png",
        pdf=f"{FIG}/training_curves_{{model}}.pdf",
    log:
        f"results/logs/{PNAME}/report/training_curves_{{model}}.log",
    params:
        runs=lambda w: " ".join(f"{v}={run_dir(w.model, v)}/metrics.jsonl" for v in TRAINED),
    shell:
        "{PY} -m paper_figures.training_curves --run {params.runs} --out {FIG}/training_curves_{wildcards.model} > {log} 2>&1"


rule compare_paper:
    localrule: True
    input:
        reference=str(BASE / "results" / "paper" / "reference.csv"),
        metrics=sorted(set(MATH_METRICS + PASSK_METRICS + CODE_METRICS + AGENT_METRICS + BFCL_METRICS)),
    output:
        md=f"{FIG}/paper_vs_reproduced.md",
        csv=f"{FIG}/paper_vs_reproduced.csv",
    log:
        f"results/logs/{PNAME}/report/compare.log",
    shell:
        "{PY} -m paper_figures.compare --reference {input.reference} --metrics {input.metrics} --out {FIG}/paper_vs_reproduced > {log} 2>&1"


rule diagnostics_figure:
    localrule: True
    input:
        lambda w: [f"{run_dir(w.model, v)}/train.done" for v in TRAINED],
    output:
        f"{FIG}/diagnostics_{{model}}/diagnostics_summary.png",
    log:
        f"results/logs/{PNAME}/report/diagnostics_{{model}}.log",
    params:
        runs=lambda w: " ".join(f"--run {v}={run_dir(w.model, v)}/metrics.jsonl" for v in TRAINED),
    shell:
        "{PY} -m resrl.diagnostics.plot {params.runs} --out {FIG}/diagnostics_{wildcards.model} > {log} 2>&1"
