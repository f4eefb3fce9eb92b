"""Multi-turn environment episodes (ALFWorld, WebShop, the guess game, ...) as a veRL 0.9.1 agent loop.

veRL's agent-loop layer (``verl.experimental.agent_loop``) runs one ``AgentLoopBase.run`` coroutine per training
row, talking to the vLLM server through ``server_manager.generate(request_id, prompt_ids, sampling_params)``. Our
loop plays the row's episode with the very code the local trainer uses (``resrl.rollout.multi_turn.run_episodes``:
same prompt rendering, same token sequence, environment tokens masked 0), through :class:`ServerSampler`, a
``generate_from_ids`` sampler that awaits the server on the loop's event loop from the worker thread the episode
runs in. The episode's reward is the environment's (``score()["reward"]``) and goes to veRL as ``reward_score``;
``extra_fields['success']`` carries the success flag.

Rows: :func:`episode_rows` writes one per training episode with ``agent_name = "resrl_env"`` and ``extra_info``
holding the task config (JSON), split, episode index and the per-turn token budget; the launcher registers the loop
with a YAML file passed as ``actor_rollout_ref.rollout.agent.agent_loop_config_path`` (veRL imports the class in
its workers by that path).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import uuid4

from resrl.rollout.base import Rollout, SamplingParams

AGENT_NAME = "resrl_env"
LOOP_TARGET = "resrl.backends.verl.agent_loop.EnvAgentLoop"


class ServerSampler:
    """``generate_from_ids`` over veRL's async LLM server, for code that runs in a worker thread: each call is sent
    to ``loop`` (the agent loop's running event loop) and awaited there. ``sampling`` holds veRL's per-row sampling
    parameters (temperature, top_p, top_k, logprobs); ``max_tokens`` comes from each call's ``params``."""

    def __init__(
        self, server_manager: Any, loop: asyncio.AbstractEventLoop, sampling: dict[str, Any], tokenizer
    ):
        self.server, self.loop, self.sampling, self.tokenizer = (
            server_manager,
            loop,
            dict(sampling),
            tokenizer,
        )

    def generate_from_ids(self, prompts: list[list[int]], params: SamplingParams) -> list[Rollout]:
        if params.n != 1:
            raise ValueError("ServerSampler plays one episode per call (params.n must be 1)")
        out = []
        for i, ids in enumerate(prompts):
            request = dict(self.sampling, max_tokens=params.max_new_tokens)
            future = asyncio.run_coroutine_threadsafe(
                self.server.generate(request_id=uuid4().hex, prompt_ids=list(ids), sampling_params=request),
                self.loop,
            )
            tok = future.result()
            ids_out = list(tok.token_ids)
            logprobs = list(tok.log_probs) if tok.log_probs else [0.0] * len(ids_out)
            out.append(
                Rollout(
                    prompt_index=i,
                    sample_index=0,
                    prompt_ids=list(ids),
                    response_ids=ids_out,
                    text=self.tokenizer.decode(ids_out, skip_special_tokens=True),
                    logprobs=logprobs,
                    finish_reason="length" if len(ids_out) >= params.max_new_tokens else "stop",
                )
            )
        return out

    def generate(self, prompts: list[str], params: SamplingParams) -> list[Rollout]:
        raise TypeError("ServerSampler takes token ids (generate_from_ids)")


async def play_row(
    server_manager: Any,
    tokenizer: Any,
    sampling: dict[str, Any],
    extra_info: dict[str, Any],
    response_length: int,
) -> dict[str, Any]:
    """Play the episode of one row; returns the fields of veRL's ``AgentLoopOutput`` (token ids and mask cut to
    ``response_length``, the whole budget over all turns)."""
    from resrl.rollout.multi_turn import run_episodes
    from resrl.tasks import make_task

    task = make_task(json.loads(extra_info["task"]))
    split, index = str(extra_info.get("split", "train")), int(extra_info["index"])
    env = task.make_envs(split, [task.get(split, index)], 1)[0]
    sampler = ServerSampler(server_manager, asyncio.get_running_loop(), sampling, tokenizer)
    params = SamplingParams(
        n=1,
        temperature=float(sampling.get("temperature", 1.0)),
        top_p=float(sampling.get("top_p", 1.0)),
        max_new_tokens=int(extra_info["max_new_tokens"]),
        seed=int(extra_info.get("seed", 0)),
    )
    c = task.config  # max_total_tokens bounds prompt + response; the launcher sets response_length to it
    try:
        (traj,) = await asyncio.to_thread(
            run_episodes,
            sampler,
            tokenizer,
            [env],
            params,
            max_turns=c.max_turns,
            max_total_tokens=c.max_total_tokens,
            enable_thinking=c.enable_thinking,
        )
    finally:
        env.close()
    cut = slice(0, response_length)
    return {
        "prompt_ids": list(traj.prompt_ids),
        "response_ids": list(traj.response_ids)[cut],
        "response_mask": list(traj.action_mask)[cut],
        "response_logprobs": list(traj.logprobs)[cut],
        "reward_score": float(traj.reward),
        "num_turns": 1 + 2 * traj.turns,
        "extra_fields": {
            "success": float(traj.score.get("success", 0.0)),
            "finish_reason": traj.finish_reason,
        },
    }


def episode_rows(task_config: dict[str, Any], limit: int, max_new_tokens: int) -> list[dict[str, Any]]:
    """veRL dataset rows for the first ``limit`` training episodes of an environment task: a short placeholder
    prompt (the episode builds its own opening), ``agent_name`` and the ``extra_info`` :func:`play_row` reads."""
    from resrl.tasks import make_task

    task = make_task(task_config)
    rows = []
    for i, p in enumerate(task.problems("train", limit=limit)):
        rows.append(
            {
                "data_source": task.name,
                "agent_name": AGENT_NAME,
                "prompt": [{"role": "user", "content": f"episode {p.id}"}],
                "ability": "agent",
                "reward_model": {"style": "rule", "ground_truth": ""},
                "extra_info": {
                    "index": int(p.meta.get("index", i)),
                    "id": p.id,
                    "split": "train",
                    "task": json.dumps(task_config),
                    "max_new_tokens": int(max_new_tokens),
                },
            }
        )
    return rows


def loop_config_yaml() -> str:
    """The ``agent_loop_config_path`` file: our loop's name and import path."""
    return f"- name: {AGENT_NAME}\n  _target_: {LOOP_TARGET}\n"


try:  # the class needs veRL (a cluster environment); the helpers above do not
    from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput
except ImportError:  # pragma: no cover - without veRL only the helpers are importable
    AgentLoopBase = None

if AgentLoopBase is not None:

    class EnvAgentLoop(AgentLoopBase):
        """veRL's agent loop for our environment tasks (module docstring)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("tools", None)
            super().__init__(*args, **kwargs)
            self.response_length = int(self.rollout_config.response_length)

        async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
            fields = await play_row(
                self.server_manager,
                self.tokenizer,
                sampling_params,
                dict(kwargs["extra_info"]),
                self.response_length,
            )
            return AgentLoopOutput(metrics=AgentLoopMetrics(), **fields)
