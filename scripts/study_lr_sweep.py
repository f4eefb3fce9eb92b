"""The learning-rate sweep behind the `study` profile: GRPO on SmolLM2-135M at a few learning rates (one seed, the
study's own training settings otherwise), each evaluated on held-out arithmetic, so the study trains at a rate where
GRPO clearly moves held-out accuracy over the backbone.

    python scripts/study_lr_sweep.py                 # runs what is missing, then writes the summary
    python scripts/study_lr_sweep.py --lrs 1e-5 3e-5  # other rates

Outputs: results/study/lr_sweep/lr<rate>/ (training log, held-out metrics; the trained model is deleted after its
evaluation), results/study/lr_sweep/summary.{csv,md}. Runs two jobs at a time, one thread each (2 cores). The
training and evaluation settings are read from experiments/profile/study.yaml, so the sweep trains what the study
trains.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "study" / "lr_sweep"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


#: The sweep's evaluation: the study's held-out level 1 with more problems and fewer samples each (Avg@4 only: the
#: question is whether accuracy moved, not Pass@k).
SWEEP_EVAL = ["limit=64", "n=4"]


def study_settings() -> tuple[list[str], list[str], str]:
    """(train overrides without the rate, evaluation overrides, the domain's task) of the study profile."""
    prof = yaml.safe_load((REPO / "experiments" / "profile" / "study.yaml").read_text())
    dom = prof["domains"]["math"]
    train = [o for o in prof["train"]["overrides"] if not o.startswith("trainer.lr=")]
    part = dom["evals"]["arith"]
    keep = [o for o in part["overrides"] if o.split("=")[0] not in {"limit", "n"}]
    return train, [f"benchmarks=[{','.join(part['benchmarks'])}]", *keep, *SWEEP_EVAL], dom["task"]


def run(cmd: list[str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        proc = subprocess.run(cmd, cwd=REPO, env=ENV, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[:4])} ... failed; see {log}")


def one_rate(lr: str, train: list[str], evals: list[str], task: str) -> Path:
    """Train GRPO at ``lr`` (skipped when its metrics exist) and evaluate it; returns its metrics file."""
    folder = OUT / f"lr{lr}"
    metrics = folder / "eval" / "metrics" / "sweep" / "metrics.csv"
    if metrics.is_file():
        return metrics
    model = folder / "run" / "final_model"
    if not model.is_dir():
        run(
            [
                sys.executable,
                "-m",
                "resrl.train",
                "method=grpo",
                "model=smollm2-135m",
                f"task={task}",
                "trainer=cpu",
                f"output_dir={folder / 'run'}",
                f"trainer.lr={lr}",
                *train,
            ],
            folder / "train.log",
        )
    run(
        [
            sys.executable,
            "-m",
            "evaluators.math",
            "model=smollm2-135m",
            f"checkpoint={model}",
            "method=grpo",
            "run_name=sweep",
            f"results_dir={folder / 'eval'}",
            *evals,
        ],
        folder / "eval.log",
    )
    shutil.rmtree(model)  # 0.54 GB each; the sweep keeps its logs and metrics
    return metrics


def base_metrics(evals: list[str]) -> Path:
    folder = OUT / "backbone"
    metrics = folder / "eval" / "metrics" / "sweep" / "metrics.csv"
    if not metrics.is_file():
        run(
            [
                sys.executable,
                "-m",
                "evaluators.math",
                "model=smollm2-135m",
                "method=base",
                "run_name=sweep",
                f"results_dir={folder / 'eval'}",
                *evals,
            ],
            folder / "eval.log",
        )
    return metrics


def summarize(files: dict[str, Path]) -> str:
    import pandas as pd

    rows = []
    for label, path in files.items():
        df = pd.read_csv(path)
        for bench in sorted(set(df["benchmark"]) - {"macro"}):
            avg = df[(df["benchmark"] == bench) & (df["metric"] == "avg@k")].iloc[0]
            rows.append(
                {
                    "lr": label,
                    "benchmark": bench,
                    "avg@k": avg["value"],
                    "ci_low": avg["ci_low"],
                    "ci_high": avg["ci_high"],
                    "k": int(avg["k"]),
                }
            )
    table = pd.DataFrame(rows)
    table.to_csv(OUT / "summary.csv", index=False, float_format="%.4f")
    lines = ["| learning rate | benchmark | Avg@k (%) | 95% interval over problems |", "|---|---|---:|---|"]
    for r in table.itertuples():
        lines.append(
            f"| {r.lr} | {r.benchmark} | {100 * r._3:.1f} | [{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}] |"
        )
    text = "\n".join(lines) + "\n"
    (OUT / "summary.md").write_text(text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lrs", nargs="+", default=["1e-5", "3e-5", "1e-4"])
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    train, evals, task = study_settings()
    with ThreadPoolExecutor(a.jobs) as pool:
        base = pool.submit(base_metrics, evals)
        done = {lr: pool.submit(one_rate, lr, train, evals, task) for lr in a.lrs}
        files = {"backbone": base.result(), **{lr: f.result() for lr, f in done.items()}}
    print(summarize(files))


if __name__ == "__main__":
    main()
