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
