"""Run the benchmark suite: ``python -m benchmarks [--only NAME ...] [--skip NAME ...] [--quick]``.

Writes ``results/benchmarks/<name>.json`` per benchmark and rewrites ``results/benchmarks/SUMMARY.md`` from
every JSON there. ``--threads N`` fixes the thread count (this process and its children). ``--wait-load X``
first waits (up to ``--wait-max`` minutes) for the 1-minute load average to drop below X, since the timings
are only comparable on a quiet machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback

from benchmarks.common import BenchResult, start_record, write_result
from benchmarks.summary import ORDER, write_summary

MODULES = {
    "resrl_weights": "benchmarks.resrl_weights",
    "train_step": "benchmarks.train_step",
    "graders": "benchmarks.graders",
    "passk": "benchmarks.passk",
    "rollout": "benchmarks.rollout",
    "multi_turn_cache": "benchmarks.multi_turn_cache",
    "dag": "benchmarks.dag",
}


def _wait_for_quiet(threshold: float, max_minutes: float) -> None:
    deadline = time.monotonic() + 60 * max_minutes
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        print(f"[benchmarks] load average {os.getloadavg()[0]:.2f} >= {threshold}; waiting ...", flush=True)
        time.sleep(60)
    print(f"[benchmarks] starting at load average {os.getloadavg()[0]:.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=ORDER, help="run only these benchmarks")
    ap.add_argument("--skip", nargs="+", choices=ORDER, default=[], help="leave these out")
    ap.add_argument(
        "--quick", action="store_true", help="small shapes and single repeats (a smoke run, minutes)"
    )
    ap.add_argument(
        "--run-dag", action="store_true", help="dag: run `snakemake --cores 2` first, then tabulate it"
    )
    ap.add_argument("--dag-profile", default="tiny", help="dag: the DAG profile to tabulate (default tiny)")
    ap.add_argument(
        "--dag-dir", default=None, help="dag: the DAG's working directory (default: the repository)"
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="torch intra-op threads here and OMP/MKL threads of child processes (default: torch's)",
    )
    ap.add_argument(
        "--wait-load", type=float, default=None, metavar="X", help="wait for the load average < X first"
    )
    ap.add_argument(
        "--wait-max", type=float, default=40.0, metavar="MIN", help="longest wait, minutes (default 40)"
    )
    args = ap.parse_args(argv)
    names = [n for n in (args.only or ORDER) if n not in args.skip]
    if args.threads is not None:
        import torch

        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
        torch.set_num_threads(args.threads)
    if args.wait_load is not None:
        _wait_for_quiet(args.wait_load, args.wait_max)
    failed = []
    for name in names:
        module = importlib.import_module(MODULES[name])
        started = start_record()
        print(f"[benchmarks] {name}: {module.TITLE}", flush=True)
        try:
            if name == "dag":
                result = module.run(
                    args.quick, run_dag=args.run_dag, profile=args.dag_profile, workdir=args.dag_dir
                )
            else:
                result = module.run(args.quick)
        except Exception:  # noqa: BLE001 - record the failure, go on with the other benchmarks
            failed.append(name)
            result = BenchResult(name, module.TITLE, status="failed", notes=[traceback.format_exc(limit=5)])
            print(traceback.format_exc(), file=sys.stderr)
        path = write_result(result, started, args.quick)
        print(f"[benchmarks] {name}: wrote {path}", flush=True)
    summary = write_summary()
    print(f"[benchmarks] summary: {summary}")
    print(summary.read_text())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
