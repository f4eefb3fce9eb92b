"""run_episodes: masks, log-prob alignment, template rendering, stopping reasons, invalid counting, batching;
Trajectory.to_rollout and collate with action masks; the id-prompt entry points of the samplers."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from resrl.models import format_chat, load_policy
from resrl.models.tiny import build_byte_tokenizer
from resrl.paths import REPO_ROOT
from resrl.rollout import HFSampler, Rollout, SamplingParams, collate
from resrl.rollout.multi_turn import EnvStep, Trajectory, run_episodes, template_delta, turn_seed
from resrl.rollout.vllm_sampler import VLLMSampler, tokens_prompts


# ------------------------------------------------------------------------------------------- test doubles
class HiLoEnv:
    """Number guessing: the last integer of a reply is the guess; "Higher."/"Lower." or "Correct!" (done).
    A reply without an integer is invalid. ``score()``: reward = success = found."""

    def __init__(self, key: str, target: int, tools=None) -> None:
        self.episode_id, self.target, self.tools = key, target, tools
        self.won, self.stepped, self.closed = False, [], False

    def reset(self):
        return [{"role": "user", "content": f"episode {self.episode_id}: guess my number (1-9)."}]

    def step(self, action):
        self.stepped.append(action)
        nums = re.findall(r"\d+", action)
        if not nums:
            return EnvStep([{"role": "user", "content": "Say a number."}], done=False, invalid=True)
        g = int(nums[-1])
        if g == self.target:
            self.won = True
            return EnvStep([{"role": "user", "content": "Correct!"}], done=True, reward=1.0, info={"g": g})
        return EnvStep(
            [{"role": "user", "content": "Higher." if g < self.target else "Lower."}],
            done=False,
            info={"g": g},
        )

    def score(self):
        return {"reward": float(self.won), "success": float(self.won)}

    def close(self):
        self.closed = True


class ScriptedSampler:
    """Replies from a script ``{episode key: [(text, ends_with_eos), ...]}``; the episode and turn are read
    from the prompt ids. Log-prob of token ``j`` of call ``c`` for prompt ``i``: ``-(c + i/10 + j/1000)``
    (distinct, so misplaced ones are caught). Honours ``params.max_new_tokens``."""

    def __init__(self, tokenizer, script, think_block: str = "") -> None:
        self.tok, self.script, self.think = tokenizer, script, think_block
        self.calls: list[tuple[list[list[int]], SamplingParams]] = []

    def generate_from_ids(self, prompts, params):
        self.calls.append(([list(p) for p in prompts], params))
        c = len(self.calls)
        out = []
        for i, p in enumerate(prompts):
            text = self.tok.decode(p, skip_special_tokens=False)
            key = re.search(r"episode (\w+):", text).group(1)
            turn = text.count("<|im_start|>assistant") - 1
            reply, eos = self.script[key][turn]
            ids = self.tok(self.think + reply, add_special_tokens=False)["input_ids"] + (
                [self.tok.eos_token_id] if eos else []
            )
            finish = "stop" if eos else "length"
            if len(ids) > params.max_new_tokens:
                ids, finish = ids[: params.max_new_tokens], "length"
            lps = [-(c + i / 10 + j / 1000) for j in range(len(ids))]
            out.append(Rollout(0, 0, list(p), ids, reply, lps, finish))
        return out


@pytest.fixture(scope="module")
def tok():
    return build_byte_tokenizer()


def _script():
    return {
        "A": [("5", True), ("I say 8", True), ("7", True)],  # target 7: Higher, Lower, Correct
        "B": [("hmm", True), ("?", True), ("2", True), ("4", True)],  # target 3: two invalid replies
        "C": [("1", True)],  # target 1: right at once
    }


def _envs():
    return [HiLoEnv("A", 7), HiLoEnv("B", 3), HiLoEnv("C", 1)]


def _segments(mask):
    """[(start, end, value)] runs of equal values in ``mask``."""
    runs, start = [], 0
    for k in range(1, len(mask) + 1):
        if k == len(mask) or mask[k] != mask[start]:
            runs.append((start, k, mask[start]))
            start = k
    return runs


def _play(tok, max_turns=4, enable_thinking=None, **kw):
    sampler = ScriptedSampler(tok, _script())
    envs = _envs()
    trajs = run_episodes(
        sampler,
        tok,
        envs,
        SamplingParams(max_new_tokens=32, seed=3),
        max_turns=max_turns,
        enable_thinking=enable_thinking,
        **kw,
    )
    return sampler, envs, trajs


# ------------------------------------------------------------------------------------------------- tests
def test_stopping_reasons_invalid_counts_and_transcripts(tok):
    _, envs, (a, b, c) = _play(tok)
    assert (a.finish_reason, a.turns, a.invalid_actions, a.step_rewards) == ("done", 3, 0, [0.0, 0.0, 1.0])
    assert (b.finish_reason, b.turns, b.invalid_actions, b.step_rewards) == ("max_turns", 4, 2, [0.0] * 4)
    assert (c.finish_reason, c.turns, c.invalid_actions) == ("done", 1, 0)
    assert [t.score for t in (a, b, c)] == [
        {"reward": 1.0, "success": 1.0},
        {"reward": 0.0, "success": 0.0},
        {"reward": 1.0, "success": 1.0},
    ]
    assert a.reward == 1.0 and b.reward == 0.0
    assert [m["content"] for m in a.messages] == [
        "episode A: guess my number (1-9).",
        "5",
        "Higher.",
        "I say 8",
        "Lower.",
        "7",
        "Correct!",
    ]
    assert [m["role"] for m in a.messages] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert a.replies == ["5", "I say 8", "7"] and envs[0].stepped == a.replies
    assert a.step_infos == [{"g": 5}, {"g": 8}, {"g": 7}]
    assert not any(e.closed for e in envs)  # the caller owns the environments


def test_one_batched_call_per_turn_over_active_episodes(tok):
    sampler, _, _ = _play(tok)
    # turn 0: A, B, C; C is done -> turn 1: A, B; turn 2: A, B; A is done -> turn 3: B
    assert [len(prompts) for prompts, _ in sampler.calls] == [3, 2, 2, 1]
    assert [p.seed for _, p in sampler.calls] == [turn_seed(3, t) for t in range(4)]
    assert len({p.seed for _, p in sampler.calls}) == 4
    assert all(p.n == 1 and p.max_new_tokens == 32 for _, p in sampler.calls)


def test_masks_and_logprobs_sit_on_generated_tokens(tok):
    sampler, _, trajs = _play(tok)
    for t in trajs:
        assert len(t.action_mask) == len(t.response_ids) == len(t.logprobs)
        runs = _segments(t.action_mask)
        gen_runs = [(s, e) for s, e, v in runs if v == 1]
        assert len(gen_runs) == t.turns and runs[0][2] == 1 and runs[-1][2] == 1  # starts and ends generated
        assert all(v == 0 for s, e, v in runs[1::2])  # environment runs in between
        for turn, (s, e) in enumerate(gen_runs):
            expected = tok(t.replies[turn], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            assert t.response_ids[s:e] == expected
            # the sampler's log-probs for this prompt at this call, in order
            call = next(
                k
                for k, (prompts, _) in enumerate(sampler.calls)
                if t.prompt_ids + t.response_ids[:s] in prompts
            )
            row = sampler.calls[call][0].index(t.prompt_ids + t.response_ids[:s])
            assert t.logprobs[s:e] == pytest.approx([-(call + 1 + row / 10 + j / 1000) for j in range(e - s)])
        assert all(lp == 0.0 for lp, m in zip(t.logprobs, t.action_mask, strict=True) if m == 0)
        assert t.num_generated_tokens == sum(e - s for s, e in gen_runs)


def test_policy_saw_the_chatml_rendering_of_the_transcript(tok):
    """With a prefix-stable template, the ids before each reply decode to format_chat of the messages so far."""
    sampler, _, trajs = _play(tok)
    seen = [p for prompts, _ in sampler.calls for p in prompts]
    for t in trajs:
        assert tok.decode(t.prompt_ids, skip_special_tokens=False) == format_chat(tok, t.messages[:1])
        starts = [s for s, _, v in _segments(t.action_mask) if v == 1]
        assistant_at = [k for k, m in enumerate(t.messages) if m["role"] == "assistant"]
        for s, k in zip(starts, assistant_at, strict=True):
            ids = t.prompt_ids + t.response_ids[:s]
            assert ids in seen  # exactly these ids were the sampler's prompt
            assert tok.decode(ids, skip_special_tokens=False) == format_chat(tok, t.messages[:k])
        # The whole sequence is the transcript up to its last reply (the final observation is not tokenised).
        last = assistant_at[-1]
        full = tok.apply_chat_template(t.messages[: last + 1], tokenize=False)
        assert tok.decode(t.prompt_ids + t.response_ids, skip_special_tokens=False) + "\n" == full


def test_no_think_generation_prompt_is_kept_verbatim(tok):
    """enable_thinking=False: the template's empty think block opens every reply; the ids keep it for earlier
    turns too (a Qwen3-style re-rendering would drop it: the sequence is what the policy saw, not a re-render)."""
    sampler, _, trajs = _play(tok, enable_thinking=False)
    think = "<think>\n\n</think>\n\n"
    a = trajs[0]
    text = tok.decode(a.prompt_ids + a.response_ids, skip_special_tokens=False)
    assert text.count("<|im_start|>assistant\n" + think) == 3
    with_block = [
        dict(m, content=think + m["content"]) if m["role"] == "assistant" else m for m in a.messages
    ]
    assert text + "\n" == tok.apply_chat_template(with_block[:6], tokenize=False)
    assert text + "\n" != tok.apply_chat_template(a.messages[:6], tokenize=False)
    # every think-block token is template (mask 0), the replies are generated (mask 1)
    gen = [tid for tid, m in zip(a.response_ids, a.action_mask, strict=True) if m]
    assert tok.decode(gen, skip_special_tokens=True) == "5I say 87"


def test_reply_without_eos_gets_the_end_of_turn_from_the_template(tok):
    sampler = ScriptedSampler(tok, {"A": [("5", False), ("7", True)]})
    (t,) = run_episodes(sampler, tok, [HiLoEnv("A", 7)], SamplingParams(max_new_tokens=32), max_turns=3)
    assert t.finish_reason == "done" and t.turns == 2
    s0, e0, _ = _segments(t.action_mask)[0]
    s1, e1, v1 = _segments(t.action_mask)[1]
    assert v1 == 0 and tok.decode(t.response_ids[s0:e0]) == "5"
    assert tok.decode(t.response_ids[s1:e1], skip_special_tokens=False) == (
        "<|im_end|>\n<|im_start|>user\nHigher.<|im_end|>\n<|im_start|>assistant\n"
    )
    k = [i for i, m in enumerate(t.messages) if m["role"] == "assistant"][1]
    assert tok.decode(t.prompt_ids + t.response_ids[:e1], skip_special_tokens=False) == format_chat(
        tok, t.messages[:k]
    )


def test_max_total_tokens_cuts_and_does_not_step(tok):
    prompt_len = len(tok(format_chat(tok, HiLoEnv("A", 7).reset()), add_special_tokens=False)["input_ids"])
    delta = len(
        tok(
            template_delta(tok, [{"role": "user", "content": "Higher."}], tok.eos_token_id),
            add_special_tokens=False,
        )["input_ids"]
    )
    # Reply 1 ("5" + EOS = 2 tokens) fits, then the environment turn, then only 3 tokens of room for "I say 8".
    budget = prompt_len + 2 + delta + 3
    sampler = ScriptedSampler(tok, _script())
    env = HiLoEnv("A", 7)
    (t,) = run_episodes(
        sampler, tok, [env], SamplingParams(max_new_tokens=32), max_turns=5, max_total_tokens=budget
    )
    assert t.finish_reason == "max_tokens" and t.turns == 2
    assert len(t.prompt_ids) + len(t.response_ids) == budget
    assert env.stepped == ["5"]  # the cut reply was not sent to the environment
    assert t.replies == ["5", "I s"] and t.messages[-1] == {"role": "assistant", "content": "I s"}
    assert sampler.calls[1][1].max_new_tokens == 3  # the per-call budget shrinks to the room left
    # a prompt already at the budget never generates
    sampler = ScriptedSampler(tok, _script())
    (t,) = run_episodes(
        sampler, tok, [HiLoEnv("A", 7)], SamplingParams(), max_turns=5, max_total_tokens=prompt_len
    )
    assert (t.finish_reason, t.turns, t.response_ids, sampler.calls) == ("max_tokens", 0, [], [])


def test_reply_that_stops_exactly_at_the_budget_is_stepped(tok):
    prompt_len = len(tok(format_chat(tok, HiLoEnv("C", 1).reset()), add_special_tokens=False)["input_ids"])
    env = HiLoEnv("C", 1)
    (t,) = run_episodes(
        ScriptedSampler(tok, _script()),
        tok,
        [env],
        SamplingParams(max_new_tokens=32),
        max_turns=2,
        max_total_tokens=prompt_len + 2,
    )  # "1" + EOS fills the room and stops naturally
    assert t.finish_reason == "done" and env.stepped == ["1"]


def test_bad_arguments(tok):
    with pytest.raises(ValueError, match="params.n == 1"):
        run_episodes(ScriptedSampler(tok, _script()), tok, _envs(), SamplingParams(n=2), max_turns=2)
    with pytest.raises(ValueError, match="max_turns must be >= 1"):
        run_episodes(ScriptedSampler(tok, _script()), tok, _envs(), SamplingParams(), max_turns=0)

    class NoReward(HiLoEnv):
        def score(self):
            return {"success": 0.0}

    with pytest.raises(ValueError, match=r"environment 'C': score\(\) has no \['reward'\]"):
        run_episodes(ScriptedSampler(tok, _script()), tok, [NoReward("C", 1)], SamplingParams(), max_turns=1)


def test_tools_reach_the_chat_template(tok):
    tok2 = build_byte_tokenizer()
    tok2.chat_template = (
        "{%- if tools %}{{ '<|im_start|>system\\nTools: ' }}{%- for t in tools %}{{ t['name'] + ';' }}{%- endfor %}"
        "{{ '<|im_end|>\\n' }}{%- endif %}" + tok.chat_template
    )
    tools = [{"name": "guess_number", "parameters": {}}]
    sampler = ScriptedSampler(tok2, _script())
    (a, c) = run_episodes(
        sampler, tok2, [HiLoEnv("A", 7, tools=tools), HiLoEnv("C", 1)], SamplingParams(), max_turns=3
    )
    assert tok2.decode(a.prompt_ids, skip_special_tokens=False).startswith(
        "<|im_start|>system\nTools: guess_number;"
    )
    assert "Tools:" not in tok2.decode(c.prompt_ids, skip_special_tokens=False)
    # tools appear once, at the start: the environment deltas do not repeat the system block
    assert tok2.decode(a.prompt_ids + a.response_ids, skip_special_tokens=False).count("Tools:") == 1


def test_delta_under_a_template_that_rewrites_earlier_turns(tok):
    """A Qwen3-like template that strips <think>...</think> from assistant turns before the last user turn and
    wraps tool messages: the delta still has the template's markup for the new messages."""
    tok2 = build_byte_tokenizer()
    tok2.chat_template = (
        "{%- for m in messages %}"
        "{%- if m['role'] == 'assistant' %}{%- set c = m['content'].split('</think>')[-1] if not loop.last else m['content'] %}"
        "{{ '<|im_start|>assistant\\n' + c + '<|im_end|>\\n' }}"
        "{%- elif m['role'] == 'tool' %}{{ '<|im_start|>user\\n<tool_response>' + m['content'] + '</tool_response><|im_end|>\\n' }}"
        "{%- else %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{%- endif %}"
        "{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
    )
    delta = template_delta(tok2, [{"role": "tool", "content": "42"}], tok2.eos_token_id)
    assert delta == "\n<|im_start|>user\n<tool_response>42</tool_response><|im_end|>\n<|im_start|>assistant\n"
    # without an EOS at the end of the reply, the end-of-turn marker comes from the template
    assert template_delta(tok2, [], ord("x")) == "<|im_end|>\n<|im_start|>assistant\n"
    sampler = ScriptedSampler(tok2, {"A": [("5", True), ("7", True)]}, think_block="<think>hm</think>")
    (t,) = run_episodes(sampler, tok2, [HiLoEnv("A", 7)], SamplingParams(), max_turns=3)
    text = tok2.decode(t.prompt_ids + t.response_ids, skip_special_tokens=False)
    assert text.count("<think>hm</think>") == 2  # earlier reasoning kept as generated
    assert sampler.calls[1][0][0] == t.prompt_ids + t.response_ids[: _segments(t.action_mask)[2][0]]


def test_text_only_sampler_is_checked_against_the_ids(tok):
    class TextSampler:
        def __init__(self, retokenise):
            self.inner, self.retokenise = ScriptedSampler(tok, _script()), retokenise

        def generate(self, prompts, params):
            ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
            out = self.inner.generate_from_ids(ids, params)
            if self.retokenise:
                for r in out:
                    r.prompt_ids = r.prompt_ids[1:]
            return out

    good = run_episodes(TextSampler(False), tok, _envs(), SamplingParams(max_new_tokens=32), max_turns=4)
    ref = _play(tok)[2]
    assert [(t.response_ids, t.action_mask) for t in good] == [(t.response_ids, t.action_mask) for t in ref]
    with pytest.raises(ValueError, match="re-tokenised episode prompt 0 into different ids"):
        run_episodes(TextSampler(True), tok, _envs(), SamplingParams(), max_turns=2)


def test_progress_bar(tok, capsys):
    run_episodes(ScriptedSampler(tok, _script()), tok, _envs(), SamplingParams(), max_turns=4, progress=True)
    assert "episodes" in capsys.readouterr().err


# ------------------------------------------------------------------------------- Trajectory -> Rollout
def test_to_rollout_and_collate_mask_environment_tokens():
    t = Trajectory(
        "e",
        [],
        prompt_ids=[1, 2],
        response_ids=[3, 4, 5, 6, 7],
        action_mask=[1, 1, 0, 0, 1],
        logprobs=[-0.1, -0.2, 0.0, 0.0, -0.3],
        finish_reason="max_turns",
        score={"reward": 0.5, "success": 0},
        turns=2,
        invalid_actions=1,
        replies=["ab", "c"],
    )
    r = t.to_rollout(3, 1)
    assert (r.prompt_index, r.sample_index, r.finish_reason, r.text) == (3, 1, "length", "ab\n\nc")
    assert r.action_mask == [1, 1, 0, 0, 1] and r.num_tokens == 5 and r.num_generated_tokens == 3
    done = Trajectory("e", [], [1], [3], [1], [-0.1], "done", {"reward": 1, "success": 1}, 1, 0)
    assert done.to_rollout(0, 0).finish_reason == "stop"
    single = Rollout(0, 0, [9], [8, 7], "", [-1.0, -2.0])
    b = collate([r, single], pad_id=0)
    assert b["response_mask"].tolist() == [[1, 1, 0, 0, 1], [1, 1, 0, 0, 0]]
    assert b["response_lengths"].tolist() == [5, 2]
    assert b["input_ids"][0, -5:].tolist() == [3, 4, 5, 6, 7]  # environment tokens stay in the input


def test_rollout_rejects_bad_action_masks():
    with pytest.raises(ValueError, match="action_mask has 1 entries for 2 response tokens"):
        Rollout(0, 0, [1], [2, 3], "", [-0.1, -0.2], action_mask=[1])
    with pytest.raises(ValueError, match="only 0 and 1"):
        Rollout(0, 0, [1], [2, 3], "", [-0.1, -0.2], action_mask=[1, 2])


# ------------------------------------------------------------------------------ real samplers, real model
@pytest.fixture(scope="module")
def tiny():
    return load_policy("tiny-qwen3")


def test_hf_generate_from_ids_equals_generate_on_the_same_tokens(tiny):
    model, tk = tiny
    texts = [format_chat(tk, [{"role": "user", "content": c}]) for c in ("hi", "What is 2 + 3?")]
    ids = [tk(t, add_special_tokens=False)["input_ids"] for t in texts]
    params = SamplingParams(n=2, max_new_tokens=8, temperature=1.0, seed=4)
    sampler = HFSampler(model, tk, batch_size=4)
    a, b = sampler.generate(texts, params), sampler.generate_from_ids(ids, params)
    assert [r.prompt_ids for r in b] == [ids[0], ids[0], ids[1], ids[1]]
    assert [(r.response_ids, r.logprobs, r.text) for r in a] == [
        (r.response_ids, r.logprobs, r.text) for r in b
    ]
    with pytest.raises(ValueError, match="at least one token"):
        sampler.generate_from_ids([[]], params)


def test_real_episodes_logprobs_match_a_training_forward(tiny):
    """tiny-qwen3 plays the guessing game; a forward over the collated trajectories reproduces the sampler's
    log-probs on every generated token (so ids, positions and masks line up)."""
    from resrl.tasks.guess_env import make_envs

    model, tk = tiny
    envs = make_envs("train", 4, seed=0)
    trajs = run_episodes(
        HFSampler(model, tk, batch_size=8),
        tk,
        envs,
        SamplingParams(max_new_tokens=6, temperature=1.0, seed=11),
        max_turns=3,
        enable_thinking=False,
    )
    assert all(t.turns >= 1 for t in trajs)
    assert sum(t.turns for t in trajs) > len(trajs)  # at least one episode went past its first reply
    batch = collate([t.to_rollout(i, 0) for i, t in enumerate(trajs)], tk.pad_token_id)
    T = batch["response_mask"].shape[1]
    P = batch["input_ids"].shape[1] - T
    with torch.no_grad():
        logits = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            position_ids=batch["position_ids"],
        ).logits
    logp = (
        torch.log_softmax(logits[:, P - 1 : -1].float(), -1)
        .gather(2, batch["input_ids"][:, P:, None])
        .squeeze(2)
    )
    mask = batch["response_mask"].bool()
    assert mask.sum() == sum(t.num_generated_tokens for t in trajs)
    assert torch.allclose(logp[mask], batch["old_logprobs"][mask], atol=1e-4)
    env_pos = torch.zeros_like(mask)
    for i, t in enumerate(trajs):
        env_pos[i, : len(t.action_mask)] = torch.tensor(t.action_mask) == 0
    assert env_pos.any() and not (mask & env_pos).any()


SMOLLM2_TOKENIZER = REPO_ROOT / "results" / "cache" / "models" / "smollm2-135m-float32"


@pytest.mark.skipif(
    not (SMOLLM2_TOKENIZER / "tokenizer.json").is_file(),
    reason=f"SmolLM2 tokenizer cache {SMOLLM2_TOKENIZER} absent (built by the first load_policy('smollm2-135m'))",
)
def test_smollm2_bpe_tokenizer_renders_the_transcript():
    """SmolLM2's BPE tokenizer and its ChatML template (default system prompt): the ids before each reply
    decode to format_chat of the transcript so far."""
    from transformers import AutoTokenizer

    tk = AutoTokenizer.from_pretrained(Path(SMOLLM2_TOKENIZER))
    sampler = ScriptedSampler(tk, _script())
    trajs = run_episodes(sampler, tk, _envs(), SamplingParams(max_new_tokens=64), max_turns=4)
    for t in trajs:
        starts = [s for s, _, v in _segments(t.action_mask) if v == 1]
        assistant_at = [k for k, m in enumerate(t.messages) if m["role"] == "assistant"]
        for s, k in zip(starts, assistant_at, strict=True):
            assert tk.decode(t.prompt_ids + t.response_ids[:s], skip_special_tokens=False) == format_chat(
                tk, t.messages[:k]
            )
            # and the ids are what the tokenizer gives for that text (no boundary drift on this template)
            assert (
                t.prompt_ids + t.response_ids[:s]
                == tk(format_chat(tk, t.messages[:k]), add_special_tokens=False)["input_ids"]
            )


# ---------------------------------------------------------------------------------------------- vLLM
def test_vllm_generate_from_ids_passes_token_prompts():
    assert tokens_prompts([[1, 2], (3,)]) == [{"prompt_token_ids": [1, 2]}, {"prompt_token_ids": [3]}]
    with pytest.raises(ValueError, match="prompt 1 has no tokens"):
        tokens_prompts([[1], []])

    seen = {}

    def fake_generate(prompts, sampling, use_tqdm):
        seen["prompts"], seen["sampling"] = prompts, sampling
        lp = SimpleNamespace(logprob=-0.5)
        return [
            SimpleNamespace(
                prompt_token_ids=p["prompt_token_ids"],
                outputs=[SimpleNamespace(token_ids=[9], text="x", logprobs=[{9: lp}], finish_reason="stop")],
            )
            for p in prompts
        ]

    sampler = VLLMSampler.__new__(VLLMSampler)  # no vllm here: the engine is replaced by a fake
    sampler._vllm = SimpleNamespace(SamplingParams=lambda **kw: kw)
    sampler.llm = SimpleNamespace(generate=fake_generate)
    out = sampler.generate_from_ids([[5, 6], [7]], SamplingParams(max_new_tokens=4, seed=2))
    assert seen["prompts"] == [{"prompt_token_ids": [5, 6]}, {"prompt_token_ids": [7]}]
    assert [s["seed"] for s in seen["sampling"]] == [2, 3]
    assert [(r.prompt_ids, r.response_ids, r.logprobs) for r in out] == [
        ([5, 6], [9], [-0.5]),
        ([7], [9], [-0.5]),
    ]


@pytest.mark.parametrize("batch_size", [8, 2])
def test_kept_key_value_caches_give_the_same_episodes_token_for_token(batch_size):
    """HFSampler with each episode's key/value cache kept across turns (the default) against full prefills
    (``reuse_cache=False``): the same replies token for token, log-probs within 1e-4, and the prefill of every
    earlier turn skipped."""
    model, tokenizer = load_policy("tiny-qwen3")
    params = SamplingParams(max_new_tokens=6, temperature=1.0, seed=11)

    def play(reuse):
        sampler = HFSampler(model, tokenizer, batch_size=batch_size)
        envs = [HiLoEnv(k, t) for k, t in (("A", 7), ("B", 3), ("C", 1), ("D", 9))]
        calls = []
        original = sampler.generate_from_ids

        def spy(*args, **kw):
            calls.append(kw or args[2:])
            return original(*args, **kw)

        sampler.generate_from_ids = spy
        trajs = run_episodes(sampler, tokenizer, envs, params, max_turns=5, reuse_cache=reuse)
        return trajs, calls

    cached, cached_calls = play(True)
    full, _ = play(False)
    assert [t.response_ids for t in cached] == [t.response_ids for t in full]
    assert [t.replies for t in cached] == [t.replies for t in full]
    for a, b in zip(cached, full, strict=True):
        got = [x for x in a.logprobs if x is not None]
        want = [x for x in b.logprobs if x is not None]
        assert got == pytest.approx(want, abs=1e-4)
    assert len(cached_calls) >= 2 and sum(t.turns for t in cached) > len(cached)  # several turns were played
    cache = cached_calls[-1][0]  # the PrefixCache passed on the last turn
    assert cache.reused_tokens > 0
