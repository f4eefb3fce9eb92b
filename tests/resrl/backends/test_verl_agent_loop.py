"""The veRL agent loop for environment tasks, against a stand-in of veRL's async LLM server (CPU): the loop plays
the row's episode with the local trainer's multi-turn code, so its tokens, mask and reward are the local trainer's
(same environment, same scripted replies)."""

from __future__ import annotations

import asyncio
import json

import pytest

from resrl.backends.verl.agent_loop import AGENT_NAME, episode_rows, loop_config_yaml, play_row
from resrl.models.tiny import build_byte_tokenizer


class FakeServer:
    """veRL's ``server_manager.generate`` contract: async, token ids in, ``TokenOutput``-like out (token ids and
    log-probs); replies ``script`` in turn and records what it was asked."""

    def __init__(self, tokenizer, script):
        self.tokenizer, self.script, self.calls = tokenizer, list(script), []

    async def generate(self, request_id, prompt_ids, sampling_params, **_):
        self.calls.append((list(prompt_ids), dict(sampling_params)))
        text = self.script[min(len(self.calls) - 1, len(self.script) - 1)]
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]
        out = type("TokenOutput", (), {})()
        out.token_ids, out.log_probs = ids, [-0.5] * len(ids)
        return out


def _guess_config():
    import yaml

    from resrl.paths import REPO_ROOT

    return yaml.safe_load((REPO_ROOT / "experiments" / "task" / "guess.yaml").read_text())


def test_rows_name_the_loop_and_carry_the_task():
    config = _guess_config()
    rows = episode_rows(config, limit=3, max_new_tokens=16)
    assert [r["agent_name"] for r in rows] == [AGENT_NAME] * 3
    info = rows[1]["extra_info"]
    assert json.loads(info["task"]) == config and info["split"] == "train" and info["max_new_tokens"] == 16
    assert "resrl.backends.verl.agent_loop.EnvAgentLoop" in loop_config_yaml()


def test_the_loop_plays_the_local_trainers_episode():
    from resrl.rollout.base import SamplingParams
    from resrl.rollout.multi_turn import run_episodes
    from resrl.tasks import make_task

    config = _guess_config()
    tok = build_byte_tokenizer()
    row = episode_rows(config, limit=1, max_new_tokens=24)[0]["extra_info"]
    script = ["I guess 5", "I guess 3", "I guess 4", "I guess 1", "I guess 2"]
    server = FakeServer(tok, script)
    sampling = {"temperature": 1.0, "top_p": 1.0, "logprobs": True}
    out = asyncio.run(play_row(server, tok, sampling, row, response_length=4096))
    assert all(call[1]["max_tokens"] <= 24 and call[1]["temperature"] == 1.0 for call in server.calls)
    assert len(out["response_ids"]) == len(out["response_mask"]) == len(out["response_logprobs"])
    assert 0 in out["response_mask"] and 1 in out["response_mask"]  # environment tokens masked out

    # the same episode on the local trainer's path (a sampler answering the same script)
    class Scripted:
        def __init__(self):
            self.i = 0

        def generate_from_ids(self, prompts, params):
            from resrl.rollout.base import Rollout

            text = script[min(self.i, len(script) - 1)]
            self.i += 1
            ids = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            return [Rollout(0, 0, prompts[0], ids, text, [-0.5] * len(ids))]

    task = make_task(config)
    env = task.make_envs("train", [task.get("train", 0)], 1)[0]
    params = SamplingParams(n=1, temperature=1.0, top_p=1.0, max_new_tokens=24, seed=0)
    (traj,) = run_episodes(
        Scripted(),
        tok,
        [env],
        params,
        max_turns=task.config.max_turns,
        enable_thinking=task.config.enable_thinking,
    )
    assert out["prompt_ids"] == traj.prompt_ids and out["response_ids"] == traj.response_ids
    assert out["response_mask"] == traj.action_mask and out["reward_score"] == pytest.approx(traj.reward)
    assert out["extra_fields"]["success"] == traj.score["success"]


def test_response_is_cut_to_verls_length():
    tok = build_byte_tokenizer()
    row = episode_rows(_guess_config(), limit=1, max_new_tokens=24)[0]["extra_info"]
    out = asyncio.run(play_row(FakeServer(tok, ["I guess 9"]), tok, {}, row, response_length=10))
    assert len(out["response_ids"]) == len(out["response_mask"]) == 10


def test_an_environment_task_translates_to_our_agent_loop(tmp_path):
    from resrl.backends.verl.config import ClusterSettings, agent_loop_config_path, translate
    from resrl.backends.verl.launch import compose, write_train_parquet

    config = compose(["method=resrl", "model=qwen3-4b", "task=guess", "trainer=agent"])
    plan = translate(config, ClusterSettings(), tmp_path)
    o = plan.overrides
    assert o["actor_rollout_ref.rollout.agent.agent_loop_config_path"] == str(
        agent_loop_config_path(tmp_path)
    )
    assert (
        o["data.max_response_length"] == 512
    )  # the task's whole-episode budget (guess: max_total_tokens 512)
    assert o["actor_rollout_ref.actor.calculate_entropy"] is False
    empg = translate(
        compose(["method=empg", "model=qwen3-4b", "task=guess", "trainer=agent"]), ClusterSettings(), tmp_path
    )
    assert (
        empg.overrides["actor_rollout_ref.actor.calculate_entropy"] is True
    )  # EMPG reads the token entropies
    n = write_train_parquet(config["task"], tmp_path / "train.parquet", 4, 512)
    import pandas as pd

    df = pd.read_parquet(tmp_path / "train.parquet")
    assert n == 4 and set(df["agent_name"]) == {AGENT_NAME}


def test_env_task_without_a_total_budget_is_refused(tmp_path):
    from resrl.backends.verl.config import ClusterSettings, translate
    from resrl.backends.verl.launch import compose

    config = compose(["method=grpo", "model=qwen3-4b", "task=guess", "task.max_total_tokens=null"])
    with pytest.raises(ValueError, match="needs task.max_total_tokens on veRL"):
        translate(config, ClusterSettings(), tmp_path)


def test_verls_agent_loop_output_takes_what_the_loop_returns():
    pytest.importorskip("verl", reason="make test-verl")
    from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput

    from resrl.backends.verl.agent_loop import EnvAgentLoop

    assert issubclass(EnvAgentLoop, AgentLoopBase)
    tok = build_byte_tokenizer()
    row = episode_rows(_guess_config(), limit=1, max_new_tokens=24)[0]["extra_info"]
    fields = asyncio.run(play_row(FakeServer(tok, ["I guess 5"]), tok, {}, row, response_length=256))
    out = AgentLoopOutput(metrics=AgentLoopMetrics(), **fields)  # veRL's own pydantic validation
    d = out.as_dict()
    assert (
        d["responses"].shape == d["response_mask"].shape
        and d["rollout_log_probs"].shape == d["responses"].shape
    )
