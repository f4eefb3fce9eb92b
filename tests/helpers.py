"""Small stand-ins shared by the tests (import as ``from tests.helpers import HashTask``): trainer tasks and
configs, and the Snakemake command the workflow tests run."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from resrl.paths import REPO_ROOT
from resrl.tasks.base import Problem

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def run_snakemake(
    *extra: str,
    workdir: Path | None = None,
    config: Sequence[str] = (),
    snakefile: Path | None = None,
    dry_run: bool = True,
    print_commands: bool = False,
    timeout: int = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Snakemake on 2 cores from the repository root, on its Snakefile (or ``snakefile``): a dry run (``-n``)
    unless ``dry_run=False``, ``-p`` with ``print_commands``, ``-d workdir``, ``--config *config``, then
    ``extra`` (e.g. ``--until train``); output captured as text; ``env`` replaces the environment."""
    cmd = [SNAKEMAKE, "--cores", "2", "-s", str(snakefile or REPO_ROOT / "Snakefile")]
    if dry_run:
        cmd.append("-n")
    if print_commands:
        cmd.append("-p")
    if workdir is not None:
        cmd += ["-d", str(workdir)]
    if config:
        cmd += ["--config", *config]
    return subprocess.run(
        [*cmd, *extra], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, env=env
    )


def job_counts(text: str) -> dict[str, int]:
    """The "Job stats:" block of Snakemake's output, up to its ``total`` row: {rule: jobs}, with ``total``."""
    counts: dict[str, int] = {}
    for line in text[text.index("Job stats:") :].splitlines():
        m = re.match(r"(\w+)\s+(\d+)$", line)
        if m:
            counts[m.group(1)] = int(m.group(2))
            if m.group(1) == "total":
                break
    return counts


class HashTask:
    """Prompts ``q<i> <split>`` (``prompt``); a response is right when a hash of its text is even: mixed,
    deterministic rewards of ``right``/``wrong``. Subclasses change ``prompt`` and ``wrong``."""

    enable_thinking = None
    prompt = "q{index} {split}"
    right, wrong = 1.0, 0.0

    def size(self, split):
        return 50

    def get(self, split, index):
        content = self.prompt.format(index=index, split=split)
        return Problem(
            id=f"{split}-{index}", prompt_messages=[{"role": "user", "content": content}], answer=""
        )

    def reward(self, response, answer):
        return self.right if hashlib.sha256(response.encode()).digest()[0] % 2 == 0 else self.wrong


def small_trainer_config(**overrides):
    """A TrainerConfig for tiny-qwen3 runs of a few seconds: 2 steps of 2 prompts x 4 responses, 6 new tokens,
    lr 1e-3 without warm-up, a checkpoint every step; ``overrides`` replace any field."""
    from resrl.trainer.config import TrainerConfig

    fields = dict(
        steps=2,
        prompts_per_step=2,
        n=4,
        mini_batch_prompts=1,
        lr=1e-3,
        warmup_steps=0,
        max_new_tokens=6,
        max_prompt_tokens=64,
        rollout_batch_size=8,
        save_every=1,
        eval_problems=2,
        eval_n=2,
        temperature=1.0,
    )
    return TrainerConfig(**{**fields, **overrides})


class ToolFormatTokenizer:
    """Token ``i`` decodes to the ``i``-th piece (cyclically) of a ToolRL-format response: for methods that read the
    response text (ResT's regions) in tests that build batches by hand."""

    PIECES = [
        "<think>",
        "ok",
        "</think>",
        "\n<tool_call>\n",
        '{"name": ',
        '"f"',
        ', "parameters": {}}',
        "\n</tool_call>",
    ]

    def decode(self, ids, skip_special_tokens=False):
        return "".join(self.PIECES[i % len(self.PIECES)] for i in ids)


def reading_tool_text(method):
    """``method`` with its response-text features (``token_features``) computed as if every response read as
    ToolRL-format text (``ToolFormatTokenizer``): a random tiny model's bytes hold no tool-call regions, so ResT would
    otherwise weigh every token 0 and train nothing. Other methods are returned as they are."""
    from resrl.methods.base import Method

    if type(method).token_features is Method.token_features:
        return method
    own = type(method).token_features
    method.token_features = lambda tokenizer, ids, step, width: own(
        method, ToolFormatTokenizer(), ids, step, width
    )
    return method


def local_methods() -> list[str]:
    """Every registered method the local trainer runs (a method needing a critic, PPO, runs on veRL only)."""
    import resrl.methods as methods

    return [n for n in methods.names() if not methods.build(n).needs_critic]
