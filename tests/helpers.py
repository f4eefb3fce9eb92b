"""Small stand-ins shared by the trainer tests (import as ``from tests.helpers import HashTask``)."""

from __future__ import annotations

import hashlib

from resrl.tasks.base import Problem


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
