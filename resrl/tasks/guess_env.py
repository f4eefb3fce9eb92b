"""``guess``: a deterministic number-guessing chat environment (a ``ChatEnv``) for tests and CPU smoke runs.

The environment thinks of an integer in ``[low, high]``; each reply's last integer is the guess; the answer
is ``"Higher."`` or ``"Lower."`` (a user turn), or ``"Correct!"`` and the episode ends. A reply without an
integer is an invalid action (the environment asks again; nothing else happens). ``score()``:

- ``success``: 1.0 if the number was found, else 0.0;
- ``closeness``: ``1 - |last valid guess - target| / (high - low)`` (0.0 without a valid guess);
- ``reward``: ``success`` (``reward="success"``) or ``closeness`` (``reward="closeness"``, a dense signal
  that gives a random tiny model mixed rewards);
- ``guesses``: valid guesses made.

``make_envs(split, episodes, seed, ...)`` builds episodes whose targets are a fixed function of
``(seed, split, episode index)``; it is the factory behind ``experiments/task/guess.yaml``.
"""

from __future__ import annotations

import hashlib
import re

from resrl.rollout.multi_turn import EnvStep, Message

REWARDS = ("success", "closeness")
_INT = re.compile(r"-?\d+")


def target_for(seed: int, split: str, index: int, low: int, high: int) -> int:
    """The hidden number of episode ``index`` of ``split`` (SHA-256 of the key, reduced to the range)."""
    digest = hashlib.sha256(f"guess:{seed}:{split}:{index}".encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


class GuessEnv:
    """One guessing episode; ``target`` is the hidden number. Implements ``resrl.rollout.multi_turn.ChatEnv``."""

    tools = None

    def __init__(
        self, target: int, low: int = 1, high: int = 10, episode_id: str = "guess", reward: str = "success"
    ) -> None:
        if low >= high or not low <= target <= high:
            raise ValueError(f"guess: need low < high and low <= target <= high, got {low}, {high}, {target}")
        if reward not in REWARDS:
            raise ValueError(f"guess: reward must be one of {REWARDS}, got {reward!r}")
        self.target, self.low, self.high = target, low, high
        self.episode_id = episode_id
        self.reward_kind = reward
        self.guesses: list[int] = []
        self.won = False
        self.closed = False

    def reset(self) -> list[Message]:
        self.guesses, self.won = [], False
        return [
            {
                "role": "user",
                "content": (
                    f"I am thinking of an integer between {self.low} and {self.high}. Guess it: reply with one "
                    "integer. I will say Higher or Lower."
                ),
            }
        ]

    def step(self, action: str) -> EnvStep:
        found = _INT.findall(action)
        if not found:
            return EnvStep(
                [{"role": "user", "content": f"Reply with one integer between {self.low} and {self.high}."}],
                done=False,
                invalid=True,
            )
        guess = int(found[-1])
        self.guesses.append(guess)
        if guess == self.target:
            self.won = True
            return EnvStep(
                [{"role": "user", "content": "Correct!"}], done=True, reward=1.0, info={"guess": guess}
            )
        hint = "Higher." if guess < self.target else "Lower."
        return EnvStep([{"role": "user", "content": hint}], done=False, info={"guess": guess})

    def score(self) -> dict[str, float]:
        success = 1.0 if self.won else 0.0
        closeness = 0.0
        if self.guesses:
            closeness = max(0.0, 1.0 - abs(self.guesses[-1] - self.target) / (self.high - self.low))
        reward = success if self.reward_kind == "success" else closeness
        return {
            "reward": reward,
            "success": success,
            "closeness": closeness,
            "guesses": float(len(self.guesses)),
        }

    def close(self) -> None:
        self.closed = True


def make_envs(
    split: str, episodes: int, seed: int = 0, low: int = 1, high: int = 10, reward: str = "success"
) -> list[GuessEnv]:
    """Episodes ``0 .. episodes-1`` of ``split``; episode ``i``'s target is ``target_for(seed, split, i, ...)``."""
    if episodes < 0:
        raise ValueError(f"guess: episodes must be >= 0, got {episodes}")
    return [
        GuessEnv(target_for(seed, split, i, low, high), low, high, f"guess-{split}-{i}", reward)
        for i in range(episodes)
    ]
