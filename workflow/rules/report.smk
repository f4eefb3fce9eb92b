# Tables and figures in paper_figures/<profile>/, read only from results/: each table from the domain(s) that train
# for it (Table 1: math; 2: code; 3: ALFWorld and WebShop; 4: tool use on BFCL; 5: math at 32B). All local rules:
# they run where Snakemake runs (the submit host under SLURM), never in a cluster job.

FIG = f"paper_figures/{PNAME}"
CAPTIONS = BASE / "workflow" / "report"  # Snakemake's HTML report (`make report`): one caption per kind of output


def scale(domains=None):
    """What a report caption says about the scale: profile, models, methods, seeds and how training ran."""
    domains = list(domains or DOMAINS)
    models = sorted({m for d in domains for m in DOMAINS[d]["models"]})
    trains = sorted({domain_train(d)["backend"] for d in domains})
    return (f"profile {PNAME}; {', '.join(models)}; {len(SEEDS)} seed(s) {SEEDS}; "
            f"trained by the {'/'.join(trains)} backend with {' '.join(domain_train(domains[0])['overrides']) or 'the recipe defaults'}")


TABLE_TITLES = {"table1": "Table 1 (math)", "table2": "Table 2 (code)", "table3": "Table 3 (agents)",
                "table4": "Table 4 (tool use)", "table5": "Table 5 (math at 32B)"}
#: The script writing each table (paper_figures/<script>.py).
TABLE_SCRIPTS = {"table1": "table1", "table2": "table2", "table3": "table3", "table4": "table4", "table5": "table5"}


def metric_files(domain):
    """Every metrics file of a domain's table: the math parts that count for it, code benchmarks, agent
    environments and BFCL runs, for each evaluated (model, variant)."""
    dom = DOMAINS[domain]
    parts = [p for p, spec in (dom.get("evals") or {}).items() if spec.get("table1", True)]
    out = []
    for (m, v), seed in ((pair, seed) for pair in table_pairs(domain) for seed in SEEDS):
        root = f"results/metrics/{PNAME}/{domain}/{m}/{v}/s{seed}"
        out += [f"{root}/{p}/metrics.csv" for p in parts]
        out += [f"{root}/code/{b}.csv" for b in (dom.get("code") or {}).get("benchmarks", [])]
        out += [f"{root}/agents/{e}.csv" for e in (dom.get("agents") or {}).get("envs", [])]
        out += [f"{root}/bfcl/{s}/bfcl.csv" for s in bfcl_subsets(domain)]
    return out


def passk_files(domain):
    part = DOMAINS[domain].get("passk")
    if not part:
        return []
    return [f"results/metrics/{PNAME}/{domain}/{m}/{v}/s{seed}/{part}/metrics.csv"
            for m, v in table_pairs(domain) for seed in SEEDS]


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
            out += [f"{FIG}/{d}/diagnostics_{m}.md" for m in DOMAINS[d]["models"]]  # the same, in numbers
    out += [f"{FIG}/{d}/passk.png" for d in DOMAINS if DOMAINS[d].get("passk")]
    out += [f"{FIG}/{d}/diversity_{m}.png" for d in DOMAINS if DOMAINS[d].get("passk") for m in DOMAINS[d]["models"]]
    out += [f"{FIG}/ablation_{abl['name']}.md" for abl in ABLS]
    out += [f"{FIG}/ablation_{abl['name']}_diversity.png" for abl in ABLS
            if abl["name"] in DIVERSITY_ABLATIONS and DOMAINS[ABL_DOMAIN].get("passk")]
    return out


#: The ablations whose points are also drawn as accuracy against diversity (the diversity floor).
DIVERSITY_ABLATIONS = ("min_weight", "pos_scale")


def passk_samples(domain, model, variant):
    """The samples files (one per seed) of the domain's Pass@k part's first benchmark, for one (model, variant)."""
    part = DOMAINS[domain]["passk"]
    bench = DOMAINS[domain]["evals"][part]["benchmarks"][0]
    return [f"results/samples/{PNAME}/{domain}/{model}/{variant}/s{seed}/{part}/{bench}.jsonl" for seed in SEEDS]


def diversity_points(domain, model):
    """`<method>=<seed files,>` of the methods the domain's tables show (their samples of the Pass@k part)."""
    return {v: passk_samples(domain, model, v) for m, v in table_pairs(domain) if m == model}


def ablation_diversity_points(name):
    """`<value>=<seed files,>` of one ablation's points, on the first ablation model."""
    abl = next(a for a in ABLS if a["name"] == name)
    model = ABL_MODELS[0]
    return {_fmt(value): passk_samples(ABL_DOMAIN, model, variant) for value, variant in ablation_points(abl)}


def _point_args(points):
    return " ".join(f"{shlex.quote(k)}={','.join(v)}" for k, v in points.items())


rule diversity_figure:
    """Accuracy against diversity (distinct-2, answer entropy, Pass@n - Pass@1) of each method's Pass@k samples."""
    localrule: True
    input:
        lambda w: [f for files in diversity_points(w.domain, w.model).values() for f in files],
    output:
        png=report(f"{FIG}/{{domain}}/diversity_{{model}}.png", caption=CAPTIONS / "diversity.rst",
                   category="Figures", subcategory="Accuracy against diversity"),
        pdf=f"{FIG}/{{domain}}/diversity_{{model}}.pdf",
        csv=f"{FIG}/{{domain}}/diversity_{{model}}.csv",
    log:
        f"results/logs/{PNAME}/report/{{domain}}/diversity_{{model}}.log",
    params:
        scale=lambda w: scale([w.domain]),
        points=lambda w: _point_args(diversity_points(w.domain, w.model)),
    shell:
        "{PY} -m paper_figures.diversity --point {params.points} "
        "--out {FIG}/{wildcards.domain}/diversity_{wildcards.model} > {log} 2>&1"


rule ablation_diversity_figure:
    """The diversity floor: accuracy against diversity for each value of min_weight or pos_scale."""
    localrule: True
    input:
        lambda w: [f for files in ablation_diversity_points(w.name).values() for f in files],
    output:
        png=report(f"{FIG}/ablation_{{name}}_diversity.png", caption=CAPTIONS / "ablation_diversity.rst",
                   category="Ablations", subcategory="{name}"),
        pdf=f"{FIG}/ablation_{{name}}_diversity.pdf",
        csv=f"{FIG}/ablation_{{name}}_diversity.csv",
    log:
        f"results/logs/{PNAME}/report/ablation_{{name}}_diversity.log",
    params:
        scale=scale([ABL_DOMAIN]),
        points=lambda w: _point_args(ablation_diversity_points(w.name)),
    shell:
        "{PY} -m paper_figures.diversity --factor {wildcards.name} --point {params.points} "
        "--out {FIG}/ablation_{wildcards.name}_diversity > {log} 2>&1"


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
            md=report(f"{FIG}/{_table}.md", caption=CAPTIONS / "table.rst", category="Tables",
                      subcategory=TABLE_TITLES[_table]),
            tex=f"{FIG}/{_table}.tex",
        log:
            f"results/logs/{PNAME}/report/{_table}.log",
        params:  # (a shell string is evaluated when the job runs, after this loop: per-table values go here)
            title=TABLE_TITLES[_table],
            scale=scale(TABLES[_table]),
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
        f"{m}/{_fmt(value)}": [f"results/metrics/{PNAME}/{ABL_DOMAIN}/{m}/{variant}/s{seed}/{part}/metrics.csv"
                               for seed in SEEDS for part in parts]
        for m in ABL_MODELS for value, variant in ablation_points(abl)
    }


rule ablation_table:
    """One table per factor: its values (sorted numerically) against the ablated domain's metrics, the default
    marked; the main tables never show ablation runs."""
    localrule: True
    input:
        lambda w: [f for files in ablation_files(w.name).values() for f in files],
    output:
        md=report(f"{FIG}/ablation_{{name}}.md", caption=CAPTIONS / "ablation.rst", category="Ablations",
                  subcategory="{name}"),
        tex=f"{FIG}/ablation_{{name}}.tex",
        png=report(f"{FIG}/ablation_{{name}}.png", caption=CAPTIONS / "ablation.rst", category="Ablations",
                   subcategory="{name}"),
        pdf=f"{FIG}/ablation_{{name}}.pdf",
    log:
        f"results/logs/{PNAME}/report/ablation_{{name}}.log",
    params:
        scale=scale([ABL_DOMAIN]),
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
        png=report(f"{FIG}/{{domain}}/passk.png", caption=CAPTIONS / "passk.rst", category="Figures",
                   subcategory="Pass@k"),
        pdf=f"{FIG}/{{domain}}/passk.pdf",
    log:
        f"results/logs/{PNAME}/report/{{domain}}/passk.log",
    params:
        scale=lambda w: scale([w.domain]),
    shell:
        "{PY} -m paper_figures.passk --metrics {input} --out {FIG}/{wildcards.domain}/passk > {log} 2>&1"


def trained_runs(domain, model):
    return [run_dir(domain, model, v, seed) for v in DOMAINS[domain]["methods"] for seed in SEEDS]


def run_logs(domain, model):
    """`<method>=<seed 0's metrics.jsonl>,<seed 1's>...` per method: the figures draw a band over the seeds."""
    return " ".join(f"{v}=" + ",".join(f"{run_dir(domain, model, v, seed)}/metrics.jsonl" for seed in SEEDS)
                    for v in DOMAINS[domain]["methods"])


rule training_curves:
    localrule: True
    input:
        lambda w: [f"{r}/train.done" for r in trained_runs(w.domain, w.model)],
    output:
        png=report(f"{FIG}/{{domain}}/training_curves_{{model}}.png", caption=CAPTIONS / "training_curves.rst",
                   category="Figures", subcategory="Training"),
        pdf=f"{FIG}/{{domain}}/training_curves_{{model}}.pdf",
    log:
        f"results/logs/{PNAME}/report/{{domain}}/training_curves_{{model}}.log",
    params:
        scale=lambda w: scale([w.domain]),
        runs=lambda w: run_logs(w.domain, w.model),
    shell:
        "{PY} -m paper_figures.training_curves --run {params.runs} "
        "--out {FIG}/{wildcards.domain}/training_curves_{wildcards.model} > {log} 2>&1"


rule compare_paper:
    localrule: True
    input:
        reference=str(BASE / "results" / "paper" / "reference.csv"),
        metrics=[f for t in TABLES for f in table_files(t)],
    output:
        md=report(f"{FIG}/paper_vs_reproduced.md", caption=CAPTIONS / "compare.rst", category="Tables",
                  subcategory="Paper vs reproduced"),
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
        report(f"{FIG}/{{domain}}/diagnostics_{{model}}/diagnostics_summary.png", caption=CAPTIONS / "diagnostics.rst",
               category="Figures", subcategory="Diagnostics"),
    log:
        f"results/logs/{PNAME}/report/{{domain}}/diagnostics_{{model}}.log",
    params:
        scale=lambda w: scale([w.domain]),
        runs=lambda w: " ".join(f"--run {r}" for r in run_logs(w.domain, w.model).split()),
    shell:
        "{PY} -m resrl.diagnostics.plot {params.runs} --out {FIG}/{wildcards.domain}/diagnostics_{wildcards.model} > {log} 2>&1"


rule diagnostics_table:
    """The diagnostics in numbers (mean over steps, then seeds, with the seeds' range): what the README quotes."""
    localrule: True
    input:
        lambda w: [f"{r}/train.done" for r in trained_runs(w.domain, w.model)],
    output:
        md=report(f"{FIG}/{{domain}}/diagnostics_{{model}}.md", caption=CAPTIONS / "diagnostics.rst",
                  category="Tables", subcategory="Diagnostics"),
        csv=f"{FIG}/{{domain}}/diagnostics_{{model}}.csv",
    log:
        f"results/logs/{PNAME}/report/{{domain}}/diagnostics_table_{{model}}.log",
    params:
        scale=lambda w: scale([w.domain]),
        runs=lambda w: run_logs(w.domain, w.model),
    shell:
        "{PY} -m paper_figures.diagnostics_table --run {params.runs} "
        "--out {FIG}/{wildcards.domain}/diagnostics_{wildcards.model} > {log} 2>&1"
