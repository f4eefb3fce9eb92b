"""Benchmark 2: what ResRL adds to a training step (time and peak memory) over GRPO, with SmolLM2-135M.

One fixed micro-batch, as the trainer builds it: one prompt group of 4 responses, a 64-token left-padded
prompt and up to 192 response tokens (ragged: 192, 170, 150, 128), 2 correct and 2 wrong. A step is
``policy_forward`` (log-probs, plus the hooked layer for ResRL) + ``method.loss`` + ``backward``.

Variants:
- ``grpo``: ``resrl.methods.build("grpo")``, no hidden states;
- ``resrl``: ``build("resrl")`` with the layer hook (``hidden_layer=-2``), weights from the current
  ``residual_token_weights`` (what the trainer runs today);
- ``resrl_fast``: the same with ``residual_token_weights_fast`` patched into ``resrl.methods.resrl``;
- ``resrl_all_hidden``: ResRL with ``output_hidden_states=True`` instead of the hook (every layer's states
  returned by the same forward), to show what the hook saves;
- ``resrl_extra_forward``: ResRL with the hidden states from a separate no-grad forward with
  ``output_hidden_states=True`` (the "extra forward" the paper lists among ResRL's costs).

Time: all variants in one process, interleaved round by round after a warm-up step each (so load changes hit
them alike); the median per variant. Peak memory: each variant in a fresh subprocess (its own high-water
mark): the kernel's peak RSS (``VmHWM``, reset after the model is loaded, so it is the step's peak) and
``ru_maxrss`` of the whole process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import BenchResult, Row, goal_at_most, median

NAME = "train_step"
TITLE = "ResRL overhead in a training step (SmolLM2-135M)"
MODEL = "smollm2-135m"
VARIANTS = ("grpo", "resrl", "resrl_fast", "resrl_all_hidden", "resrl_extra_forward")
PROMPT_LEN = 64
RESPONSE_LENS = (192, 170, 150, 128)
SCORES = (1.0, 0.0, 1.0, 0.0)
TEMPERATURE = 0.6


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux >= 4.0: ``echo 5 > clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def fixed_batch(vocab_size: int, pad_id: int, seed: int = 0):
    """The micro-batch: input_ids/attention_mask [4, 64 + 192], response_mask [4, 192], scores [4]."""
    import torch

    g = torch.Generator().manual_seed(seed)
    b, t = len(RESPONSE_LENS), max(RESPONSE_LENS)
    prompt_lens = (64, 60, 64, 58)
    ids = torch.full((b, PROMPT_LEN + t), pad_id, dtype=torch.long)
    attn = torch.zeros(b, PROMPT_LEN + t, dtype=torch.long)
    resp_mask = torch.zeros(b, t, dtype=torch.bool)
    for i, (pl, rl) in enumerate(zip(prompt_lens, RESPONSE_LENS, strict=True)):
        ids[i, PROMPT_LEN - pl : PROMPT_LEN] = torch.randint(3, vocab_size, (pl,), generator=g)
        ids[i, PROMPT_LEN : PROMPT_LEN + rl] = torch.randint(3, vocab_size, (rl,), generator=g)
        attn[i, PROMPT_LEN - pl : PROMPT_LEN + rl] = 1
        resp_mask[i, :rl] = True
    return ids, attn, resp_mask, torch.tensor(SCORES)


class Stepper:
    """Runs one training step of a variant on the fixed batch (model and batch shared by all variants)."""

    def __init__(self) -> None:
        import torch

        from resrl.models import load_policy

        self.torch = torch
        self.model, tok = load_policy(MODEL)
        self.model.train()
        self.ids, self.attn, self.resp_mask, self.scores = fixed_batch(
            self.model.config.vocab_size, tok.pad_token_id
        )
        self.group_ids = torch.zeros(len(RESPONSE_LENS), dtype=torch.long)
        with torch.no_grad():
            from resrl.trainer.policy_forward import policy_forward

            self.old = policy_forward(self.model, self.ids, self.attn, PROMPT_LEN, TEMPERATURE).log_probs
        self.weight_times: dict[str, list[float]] = {"resrl": [], "resrl_fast": []}
        self.time_weights = False  # also time the weights alone after each ResRL step

    def _forward(self, variant: str):
        from resrl.trainer.policy_forward import policy_forward

        if variant == "grpo":
            return policy_forward(self.model, self.ids, self.attn, PROMPT_LEN, TEMPERATURE).log_probs, None
        if variant in ("resrl", "resrl_fast"):
            out = policy_forward(self.model, self.ids, self.attn, PROMPT_LEN, TEMPERATURE, hidden_layer=-2)
            return out.log_probs, out.hidden
        if variant == "resrl_extra_forward":  # hidden states from a second, gradient-free forward
            with self.torch.no_grad():
                _, hidden = self._all_hidden_forward()
            return policy_forward(self.model, self.ids, self.attn, PROMPT_LEN, TEMPERATURE).log_probs, hidden
        return self._all_hidden_forward()

    def _all_hidden_forward(self):
        """policy_forward's log-probs, but with ``output_hidden_states=True`` in place of the hook."""
        t = self.ids.shape[1] - PROMPT_LEN
        position_ids = (self.attn.cumsum(-1) - 1).clamp(min=0)
        out = self.model(
            input_ids=self.ids,
            attention_mask=self.attn,
            position_ids=position_ids,
            use_cache=False,
            logits_to_keep=t + 1,
            output_hidden_states=True,
        )
        logp = self.torch.log_softmax(out.logits[:, :-1].float() / TEMPERATURE, dim=-1)
        log_probs = logp.gather(-1, self.ids[:, PROMPT_LEN:, None]).squeeze(-1)
        return log_probs, out.hidden_states[-2][:, PROMPT_LEN - 1 : PROMPT_LEN - 1 + t]

    def step(self, variant: str) -> float:
        from benchmarks.resrl_fast import residual_token_weights_fast
        from resrl import methods
        from resrl.algorithms.resrl import residual_token_weights
        from resrl.methods import resrl as resrl_method
        from resrl.methods.base import PolicyInputs

        method = methods.build("grpo" if variant == "grpo" else "resrl")
        resrl_method.residual_token_weights = (
            residual_token_weights_fast if variant == "resrl_fast" else residual_token_weights
        )
        self.model.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        log_probs, hidden = self._forward(variant)
        lengths = self.resp_mask.sum(-1)
        rewards = method.shape_rewards(self.scores, lengths)
        adv = method.sequence_advantages(rewards, self.scores, self.group_ids)
        batch = PolicyInputs(
            log_probs=log_probs,
            old_log_probs=self.old,
            response_mask=self.resp_mask,
            rewards=rewards,
            scores=self.scores,
            group_ids=self.group_ids,
            advantages=adv,
            hidden=hidden,
        )
        loss, _ = method.loss(batch)
        loss.backward()
        dt = time.perf_counter() - t0
        if self.time_weights and variant in self.weight_times:  # the weights alone, for the record
            tw = time.perf_counter()
            method.token_weights(batch)
            self.weight_times[variant].append(time.perf_counter() - tw)
        resrl_method.residual_token_weights = residual_token_weights
        return dt


def _worker_memory(variant: str, steps: int) -> dict:
    stepper = Stepper()
    rss_after_load = _status_kib("VmRSS")
    reset = _reset_peak_rss()
    times = [stepper.step(variant) for _ in range(steps)]
    return {
        "variant": variant,
        "rss_after_load_kib": rss_after_load,
        "peak_reset": reset,
        "step_peak_rss_kib": _status_kib("VmHWM"),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "times_s": times,
    }


def _worker_timing(rounds: int) -> dict:
    stepper = Stepper()
    for v in VARIANTS:  # warm-up
        stepper.step(v)
    stepper.time_weights = True
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for _ in range(rounds):
        for v in VARIANTS:
            times[v].append(stepper.step(v))
    return {"times_s": times, "weights_only_s": stepper.weight_times}


def _spawn(args: list[str]) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.train_step", *args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=3600, cwd=Path(__file__).resolve().parents[1]
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> BenchResult:
    res = BenchResult(NAME, TITLE)
    rounds, mem_steps = (2, 2) if quick else (7, 3)
    print(f"[train_step] timing {rounds} interleaved rounds ...", flush=True)
    timing = _spawn(["--timing", str(rounds)])
    mem = {}
    for v in VARIANTS:
        print(f"[train_step] peak memory of {v} in a fresh process ...", flush=True)
        mem[v] = _spawn(["--memory", v, "--steps", str(mem_steps)])
    res.raw = {
        "timing": timing,
        "memory": mem,
        "batch": {
            "responses": len(RESPONSE_LENS),
            "prompt_len": PROMPT_LEN,
            "response_lens": list(RESPONSE_LENS),
            "scores": list(SCORES),
        },
    }
    t = {v: median(timing["times_s"][v]) for v in VARIANTS}
    peak = {v: mem[v]["step_peak_rss_kib"] / 2**20 for v in VARIANTS}  # GiB
    maxrss = {v: mem[v]["ru_maxrss_kib"] / 2**20 for v in VARIANTS}
    for v in ("resrl", "resrl_fast"):
        r = t[v] / t["grpo"]
        res.rows.append(
            Row(
                f"step time, {v} / grpo", "grpo", v, "s", t["grpo"], t[v], r, "<= 1.05", goal_at_most(r, 1.05)
            )
        )
    for v, xs in timing["weights_only_s"].items():  # ResRL's own extra work, free of step-to-step noise
        if xs:
            r = median(xs) / t["grpo"]
            res.rows.append(
                Row(
                    f"{v} weights alone / grpo step",
                    "grpo step",
                    f"{v} weights",
                    "s",
                    t["grpo"],
                    median(xs),
                    r,
                    "<= 0.05",
                    goal_at_most(r, 0.05),
                )
            )
    for v in ("resrl", "resrl_fast", "resrl_all_hidden"):
        r = peak[v] / peak["grpo"]
        goal = "<= 1.05" if v != "resrl_all_hidden" else ""
        res.rows.append(
            Row(
                f"peak RSS of the step, {v} / grpo",
                "grpo",
                v,
                "GiB",
                peak["grpo"],
                peak[v],
                r,
                goal,
                goal_at_most(r, 1.05) if goal else None,
            )
        )
    for v, label in (
        ("resrl_all_hidden", "output_hidden_states=True"),
        ("resrl_extra_forward", "extra no-grad forward"),
    ):
        r = t[v] / t["resrl"]
        res.rows.append(
            Row(f"step time, {label} / layer hook", "hook", label, "s", t["resrl"], t[v], r, "", None)
        )
        r = peak[v] / peak["resrl"]
        res.rows.append(
            Row(f"peak RSS, {label} / layer hook", "hook", label, "GiB", peak["resrl"], peak[v], r, "", None)
        )
    for v in VARIANTS:
        mem[v]["step_increment_kib"] = mem[v]["step_peak_rss_kib"] - mem[v]["rss_after_load_kib"]
    w = timing["weights_only_s"]
    res.notes += [
        "Whole-process ru_maxrss (GiB, includes loading the model): "
        + ", ".join(f"{v} {maxrss[v]:.2f}" for v in VARIANTS)
        + "; step peak minus RSS after loading (GiB): "
        + ", ".join(f"{v} {mem[v]['step_increment_kib'] / 2**20:.2f}" for v in VARIANTS)
        + ".",
        "ResRL weights alone, median per step: "
        + ", ".join(f"{v} {median(xs) * 1000:.1f} ms" for v, xs in w.items() if xs)
        + ".",
        "Ratios above 1 are overheads (ours / GRPO). Time: median over interleaved rounds in one process; "
        "memory: peak RSS (VmHWM reset after loading) in a fresh process per variant.",
    ]
    res.notes = [n for n in res.notes if n]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description="worker of benchmarks.train_step (run by the benchmark itself)")
    ap.add_argument("--memory", choices=VARIANTS)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--timing", type=int, metavar="ROUNDS")
    args = ap.parse_args()
    if args.memory:
        out = _worker_memory(args.memory, args.steps)
    elif args.timing:
        out = _worker_timing(args.timing)
    else:
        ap.error("give --memory VARIANT or --timing ROUNDS")
    print(json.dumps(out))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
