# Tables and figures in paper_figures/<profile>/, read only from results/: each table from the domain(s) that train
# for it (Table 1: math; 2: code; 3: ALFWorld and WebShop; 4: tool use on BFCL; 5: math at 32B). All local rules:
# they run where Snakemake runs (the submit host under SLURM), never in a cluster job.

FIG = f"paper_figures/{PNAME}"
#: The script writing each table (paper_figures/<script>.py).
TABLE_SCRIPTS = {"table1": "table1", "table2": "table2", "table3": "table3", "table4": "table4", "table5": "table5"}


def metric_files(domain):
    """Every metrics file of a domain's table: the math parts that count for it, code benchmarks, agent
    environments and BFCL runs, for each evaluated (model, variant)."""
    dom = DOMAINS[domain]
    parts = [p for p, spec in (dom.get("evals") or {}).items() if spec.get("table1", True)]
    out = []
    for m, v in table_pairs(domain):
        root = f"results/metrics/{PNAME}/{domain}/{m}/{v}"
        out += [f"{root}/{p}/metrics.csv" for p in parts]
        out += [f"{root}/code/{b}.csv" for b in (dom.get("code") or {}).get("benchmarks", [])]
        out += [f"{root}/agents/{e}.csv" for e in (dom.get("agents") or {}).get("envs", [])]
        out += [f"{root}/bfcl/{s}/bfcl.csv" for s in bfcl_subsets(domain)]
    return out


def passk_files(domain):
    part = DOMAINS[domain].get("passk")
    return [f"results/metrics/{PNAME}/{domain}/{m}/{v}/{part}/metrics.csv" for m, v in table_pairs(domain)] if part else []


TABLES = {}
for _d, _dom in DOMAINS.items():
    TABLES.setdefault(_dom["table"], []).append(_d)


def local_domains():
    return [d for d in DOMAINS if domain_train(d)["backend"] == "local"]


def report_targets():
    out = [f"{FIG}/{t}.md" for t in TABLES] + [f"{FIG}/paper_vs_reproduced.md"]
    for d in local_domains():  # veRL logs to its own trackers
        out += [f"{FIG}/{d}/training_curves_{m}.png" for m in DOMAINS[d]["models"]]
        if "diagnostics.enabled=true" in domain_train(d)["overrides"]:  # the mechanism diagnostics were logged
            out += [f"{FIG}/{d}/diagnostics_{m}/diagnostics_summary.png" for m in DOMAINS[d]["models"]]
    out += [f"{FIG}/{d}/passk.png" for d in DOMAINS if DOMAINS[d].get("passk")]
    out += [f"{FIG}/ablation_{abl['name']}.md" for abl in ABLS]
    return out


def table_files(table):
    return [f for d in TABLES[table] for f in metric_files(d)]


def reported_args(table):
    """Baselines the table's domains do not run: the table shows the paper's numbers for them, marked."""
    names = [r for d in TABLES[table] for r in DOMAINS[d].get("reported") or []]
    return ("--reported " + " ".join(shlex.quote(n) for n in names)) if names else ""


for _table in TABLES:

    rule:
        name:
            _table
        localrule: True
        input:
            table_files(_table),
        output:
            md=f"{FIG}/{_table}.md",
            tex=f"{FIG}/{_table}.tex",
        log:
            f"results/logs/{PNAME}/report/{_table}.log",
        params:  # (a shell string is evaluated when the job runs, after this loop: per-table values go here)
            script=TABLE_SCRIPTS[_table],
            out=f"{FIG}/{_table}",
            reported=reported_args(_table),
            reference=str(BASE / "results" / "paper" / "reference.csv"),
        shell:
            "{PY} -m paper_figures.{params.script} --metrics {input} --out {params.out} "
            "--reference {params.reference} {params.reported} > {log} 2>&1"


def ablation_files(name):
    """`<model>/<value>` -> the metrics files (one per evaluation part) of each point of ablation `name`."""
    abl = next(a for a in ABLS if a["name"] == name)
    parts = [p for p, spec in (DOMAINS[ABL_DOMAIN].get("evals") or {}).items() if spec.get("table1", True)]
    return {
        f"{m}/{_fmt(value)}": [f"results/metrics/{PNAME}/{ABL_DOMAIN}/{m}/{variant}/{part}/metrics.csv" for part in parts]
        for m in DOMAINS[ABL_DOMAIN]["models"] for value, variant in ablation_points(abl)
    }


rule ablation_table:
    """One table per factor: its values (sorted numerically) against the ablated domain's metrics, the default
    marked; the main tables never show ablation runs."""
    localrule: True
    input:
        lambda w: [f for files in ablation_files(w.name).values() for f in files],
    output:
        md=f"{FIG}/ablation_{{name}}.md",
        tex=f"{FIG}/ablation_{{name}}.tex",
    log:
        f"results/logs/{PNAME}/report/ablation_{{name}}.log",
    params:
        points=lambda w: " ".join(f"{k}={','.join(v)}" for k, v in ablation_files(w.name).items()),
        default=lambda w: next(_fmt(v) for a in ABLS if a["name"] == w.name for v, var in ablation_points(a) if var == "resrl"),
    shell:
        "{PY} -m paper_figures.ablation --factor {wildcards.name} --default {params.default} "
        "--point {params.points} --out {FIG}/ablation_{wildcards.name} > {log} 2>&1"


rule passk_figure:
    localrule: True
    input:
        lambda w: passk_files(w.domain),
    output:
        png=f"{FIG}/{{domain}}/passk.png",
        pdf=f"{FIG}/{{domain}}/passk.pdf",
    log:
        f"results/logs/{PNAME}/report/{{domain}}/passk.log",
    shell:
        "{PY} -m paper_figures.passk --metrics {input} --out {FIG}/{wildcards.domain}/passk > {log} 2>&1"


def trained_runs(domain, model):
    return [run_dir(domain, model, v) for v in DOMAINS[domain]["methods"]]


rule training_curves:
    localrule: True
    input:
        lambda w: [f"{r}/train.done" for r in trained_runs(w.domain, w.model)],
    output:
        png=f"{FIG}/{{domain}}/training_curves_{{model}}.png",
        pdf=f"{FIG}/{{domain}}/training_curves_{{model}}.pdf",
    log:
        f"results/logs/{PNAME}/report/{{domain}}/training_curves_{{model}}.log",
    params:
        runs=lambda w: " ".join(f"{v}={run_dir(w.domain, w.model, v)}/metrics.jsonl" for v in DOMAINS[w.domain]["methods"]),
    shell:
        "{PY} -m paper_figures.training_curves --run {params.runs} "
        "--out {FIG}/{wildcards.domain}/training_curves_{wildcards.model} > {log} 2>&1"


rule compare_paper:
    localrule: True
    input:
        reference=str(BASE / "results" / "paper" / "reference.csv"),
        metrics=[f for t in TABLES for f in table_files(t)],
    output:
        md=f"{FIG}/paper_vs_reproduced.md",
        csv=f"{FIG}/paper_vs_reproduced.csv",
    log:
        f"results/logs/{PNAME}/report/compare.log",
    params:
        # TABLE:DOMAIN=FILE: each metrics file with the table and domain it stands for
        metrics=" ".join(f"{DOMAINS[d]['table']}:{d}={f}" for d in DOMAINS for f in metric_files(d)),
    shell:
        "{PY} -m paper_figures.compare --reference {input.reference} --metrics {params.metrics} "
        "--out {FIG}/paper_vs_reproduced > {log} 2>&1"


rule diagnostics_figure:
    localrule: True
    input:
        lambda w: [f"{r}/train.done" for r in trained_runs(w.domain, w.model)],
    output:
        f"{FIG}/{{domain}}/diagnostics_{{model}}/diagnostics_summary.png",
    log:
        f"results/logs/{PNAME}/report/{{domain}}/diagnostics_{{model}}.log",
    params:
        runs=lambda w: " ".join(f"--run {v}={run_dir(w.domain, w.model, v)}/metrics.jsonl" for v in DOMAINS[w.domain]["methods"]),
    shell:
        "{PY} -m resrl.diagnostics.plot {params.runs} --out {FIG}/{wildcards.domain}/diagnostics_{wildcards.model} > {log} 2>&1"
