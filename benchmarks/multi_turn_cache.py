"""Benchmark 7: a 20-turn episode on the transformers engine with each episode's key/value cache kept across turns
(``run_episodes`` default) vs a full prefill of the whole history every turn (``reuse_cache=False``).

SmolLM2-135M plays an environment that answers every reply with a fixed 60-word observation for 20 turns
(quick: 6 turns), 2 episodes in one batch, 24 new tokens per reply, temperature 1.0, the same seed both ways;
the two transcripts are checked equal token for token before the times are compared. Goal: at least 3x.
"""

from __future__ import annotations

from benchmarks.common import BenchResult, Row, goal_at_least, timed

NAME = "multi_turn_cache"
TITLE = "Multi-turn episodes: key/value cache kept across turns vs full prefill each turn (CPU)"
MODEL = "smollm2-135m"
OBSERVATION = " ".join(["The room is quiet; a table, a lamp and a closed drawer are in front of you."] * 4)


class EchoRoom:
    """Never done; every reply gets the same long observation (the history grows by one turn each time)."""

    def __init__(self, key: str) -> None:
        self.episode_id = key
        self.tools = None

    def reset(self):
        return [{"role": "user", "content": f"Episode {self.episode_id}. {OBSERVATION} What do you do?"}]

    def step(self, action):
        from resrl.rollout.multi_turn import EnvStep

        return EnvStep([{"role": "user", "content": OBSERVATION}], done=False)

    def score(self):
        return {"reward": 0.0, "success": 0.0}

    def close(self):
        pass


def run(quick: bool = False) -> BenchResult:
    import torch

    from resrl.models import load_policy
    from resrl.rollout import HFSampler
    from resrl.rollout.base import SamplingParams
    from resrl.rollout.multi_turn import run_episodes

    res = BenchResult(NAME, TITLE)
    turns = 6 if quick else 20
    model, tok = load_policy(MODEL)
    params = SamplingParams(max_new_tokens=24, temperature=1.0, seed=0)

    def play(reuse: bool):
        sampler = HFSampler(model, tok, batch_size=2)
        return run_episodes(
            sampler, tok, [EchoRoom("a"), EchoRoom("b")], params, max_turns=turns, reuse_cache=reuse
        )

    play(True)  # warm-up
    raw = {"turns": turns, "episodes": 2, "torch_threads": torch.get_num_threads()}
    t_full, full = timed(lambda: play(False))
    t_cached, cached = timed(lambda: play(True))
    same = [t.response_ids for t in full] == [t.response_ids for t in cached]
    length = max(len(t.prompt_ids) + len(t.response_ids) for t in full)
    raw.update(full_s=t_full, cached_s=t_cached, identical_tokens=same, final_tokens=length)
    r = t_full / t_cached
    res.rows.append(
        Row(
            f"2 episodes x {turns} turns (final history {length} tokens), 24 new tokens per turn",
            "full prefill each turn",
            "key/value cache kept",
            "s",
            t_full,
            t_cached,
            r,
            ">= 3x",
            goal_at_least(r, 3.0) and same,
        )
    )
    if not same:
        res.notes.append("the cached and the full-prefill episodes differ: the ratio does not count")
    res.raw = raw
    return res
