"""Our functions as veRL calls them == resrl.algorithms (needs verl: `make test-verl` runs these in .venv-verl).

In the main venv they skip (verl is kept out of it: it pins transformers < 5.11). The last test runs this file
under /work/main/.venv-verl/bin/python when that venv exists (slow: it starts a second interpreter).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from resrl.backends.verl.config import METHOD_ENV, ClusterSettings, translate
from resrl.paths import REPO_ROOT

try:
    import verl  # noqa: F401

    VERL_ERROR = None
except Exception as err:  # ImportError, or a broken install
    VERL_ERROR = (
        f"verl is not importable in this interpreter ({type(err).__name__}: {err}); run `make test-verl`"
    )

needs_verl = pytest.mark.skipif(VERL_ERROR is not None, reason=VERL_ERROR or "")
VERL_VENV_PY = REPO_ROOT / ".venv-verl" / "bin" / "python"


@pytest.fixture
def method_env(monkeypatch):
    def set_method(**fields):
        monkeypatch.setenv(METHOD_ENV, json.dumps(fields))
        from resrl.backends.verl.losses import current_method

        current_method.cache_clear()
        return current_method()

    yield set_method
    from resrl.backends.verl.losses import current_method

    current_method.cache_clear()


def _actor_config(**kw):
    from verl.workers.config import FSDPActorConfig

    return FSDPActorConfig(
        strategy="fsdp",
        rollout_n=4,
        ppo_mini_batch_size=4,
        ppo_micro_batch_size_per_gpu=4,
        use_dynamic_bsz=False,
        **kw,
    )


def _batch(b=4, t=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    logp = -torch.rand(b, t, generator=g) * 2
    old = logp + 0.3 * torch.randn(b, t, generator=g)
    adv = torch.randn(b, 1, generator=g).expand(b, t).contiguous()
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 4:] = False
    mask[3, 2:] = False
    return old, logp, adv, mask


@needs_verl
@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean"])
def test_registered_policy_loss_equals_ours(method_env, mode):
    from verl.trainer.ppo.core_algos import get_policy_loss_fn

    import resrl.backends.verl.register  # noqa: F401
    from resrl.algorithms.grpo import PolicyLossConfig, clipped_policy_loss

    method_env(name="dapo")  # clip 0.2 / 0.28
    old, logp, adv, mask = _batch()
    fn = get_policy_loss_fn("resrl")
    config = _actor_config(clip_ratio_low=0.2, clip_ratio_high=0.28, loss_agg_mode=mode)
    loss, metrics = fn(
        old_log_prob=old,
        log_prob=logp,
        advantages=adv,
        response_mask=mask,
        loss_agg_mode=mode,
        config=config,
        rollout_is_weights=None,
    )
    want, want_metrics = clipped_policy_loss(
        logp, old, adv, mask, PolicyLossConfig(0.2, 0.28, loss_agg_mode=mode)
    )
    assert torch.equal(loss, want)
    assert metrics["actor/pg_clipfrac"] == want_metrics["actor/pg_clipfrac"]
    with pytest.raises(ValueError, match="disagree with method.clip_low/clip_high"):
        fn(old, logp, adv, mask, mode, _actor_config(clip_ratio_low=0.2, clip_ratio_high=0.2))


@needs_verl
def test_registered_loss_global_normalisation_sums_to_minibatch_mean(method_env):
    """Two micro-batches on one rank with veRL's global sizes: their losses add up to ours on the whole."""
    from verl.trainer.ppo.core_algos import get_policy_loss_fn

    import resrl.backends.verl.register  # noqa: F401
    from resrl.algorithms.grpo import PolicyLossConfig, clipped_policy_loss

    method_env(name="grpo")
    old, logp, adv, mask = _batch(b=8, seed=3)
    fn = get_policy_loss_fn("resrl")
    config = _actor_config()
    config.global_batch_info.update(dp_size=1, batch_num_tokens=int(mask.sum()), global_batch_size=8)
    parts = [
        fn(old[s], logp[s], adv[s], mask[s], "token-mean", config)[0] for s in (slice(0, 4), slice(4, 8))
    ]
    whole, _ = clipped_policy_loss(logp, old, adv, mask, PolicyLossConfig())
    assert torch.allclose(parts[0] + parts[1], whole, atol=1e-6)


@needs_verl
def test_registered_advantages_via_verl_compute_advantage(method_env):
    import numpy as np
    from verl import DataProto
    from verl.trainer.config import AlgoConfig
    from verl.trainer.ppo.ray_trainer import compute_advantage

    import resrl.backends.verl.register  # noqa: F401
    from resrl.algorithms.grpo import grpo_advantages
    from resrl.algorithms.nsr import weighted_reinforce_advantages

    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    uids = np.array(["p", "p", "p", "p", "q", "q", "q", "q"], dtype=object)
    mask = torch.ones(8, 5)
    mask[2, 3:] = 0
    token_rewards = torch.zeros(8, 5)
    token_rewards[torch.arange(8), mask.sum(-1).long() - 1] = rewards

    def run(estimator):
        data = DataProto.from_dict(
            tensors={"token_level_rewards": token_rewards.clone(), "response_mask": mask.clone()},
            non_tensors={"uid": uids},
        )
        return compute_advantage(data, adv_estimator=estimator, num_repeat=4, config=AlgoConfig()).batch[
            "advantages"
        ]

    method_env(name="grpo")
    got = run("resrl_grpo")
    want = grpo_advantages(rewards, torch.tensor([0, 0, 0, 0, 1, 1, 1, 1]))[:, None] * mask
    assert torch.equal(got, want)
    # hand value: group p = [1, 0, 0, 1], mean 0.5, unbiased std sqrt(1/3); group q all equal -> 0
    assert got[0, 0].item() == pytest.approx(0.5 / (3**-0.5 + 1e-6)) and got[4:].abs().sum() == 0
    method_env(name="w_reinforce")
    got = run("resrl_w_reinforce")
    assert torch.equal(got, weighted_reinforce_advantages(rewards > 0, 0.1)[:, None] * mask)
    assert got[0, 0].item() == pytest.approx(0.1) and got[1, 0].item() == -1.0


@needs_verl
def test_reward_function_and_shaping(method_env):
    from resrl.backends.verl import reward

    scores = {"correct_score": 1.0, "wrong_score": -1.0}  # what write_train_parquet stores (arith.yaml)
    assert reward.compute_score("arith", "so \\boxed{19}", "19", {"reward": "boxed_int", **scores}) == 1.0
    assert reward.compute_score("arith", "\\boxed{18}", "19", {"reward": "boxed_int", **scores}) == -1.0
    assert (
        reward.compute_score("arith", "\\boxed{18}", "19", {"reward": "boxed_int"}) == -1.0
    )  # default scale
    zero_one = {"reward": "boxed_int", "correct_score": 1.0, "wrong_score": 0.0}
    assert reward.compute_score("arith", "\\boxed{18}", "19", zero_one) == 0.0
    assert reward.compute_score("dapo_math", "x\nAnswer: 34", "34", {"reward": "dapo", **scores}) == 1.0
    assert reward.compute_score("dapo_math", "\\boxed{34}", "34", {"reward": "dapo", **scores}) == -1.0
    # a scored task (ToolRL): the plug-in reward's value is the score, format 1 + exact calls 3
    gt = '<think> a </think>\n<tool_call>\n{"name": "f", "parameters": {"x": 1}}\n</tool_call>'
    toolrl = {"reward": "resrl.verifiers.toolrl:toolrl_reward", "scored": True, **scores}
    assert reward.compute_score("toolrl", gt, gt, toolrl) == pytest.approx(4.0)
    assert reward.compute_score("toolrl", "no calls", gt, toolrl) == pytest.approx(-3.0)
    with pytest.raises(ValueError, match="extra_info.wrong_score must be <= 0"):
        reward.compute_score(
            "arith", "\\boxed{19}", "19", {"reward": "boxed_int", "correct_score": 1.0, "wrong_score": 1.0}
        )
    method_env(name="resrl")
    reward._method.cache_clear()
    assert (
        reward.shape(1.0, 4096) == pytest.approx(0.7)
        and reward.shape(1.0, 100) == 1.0
        and reward.shape(-1.0, 4096) == -1.0
    )
    assert reward.shape(1.0, 3800) == pytest.approx(1 - 0.3 * 300 / 596)
    method_env(name="dapo")
    reward._method.cache_clear()
    assert reward.shape(1.0, 3584) == pytest.approx(0.5)  # (3072 - 3584) / 1024 = -0.5 penalty
    assert reward.shape(-1.0, 3584) == pytest.approx(-1.5)
    reward._method.cache_clear()


@needs_verl
@pytest.mark.parametrize("method", ["grpo", "dapo", "nsr", "flowrl", "resrl"])
def test_translated_overrides_compose_in_verl(method):
    """veRL's own Hydra config accepts every key we write (a typo would fail here)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from resrl.backends.verl.launch import compose as our_compose
    from resrl.backends.verl.main import VERL_CONFIG_DIR

    config = our_compose([f"method={method}", "model=qwen3-1.7b"])
    plan = translate(config, ClusterSettings.from_mapping(config["cluster"]), REPO_ROOT / "r")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=VERL_CONFIG_DIR, version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=plan.argv())
    GlobalHydra.instance().clear()
    assert cfg.actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu == 4
    assert cfg.actor_rollout_ref.actor.policy_loss.loss_mode == "resrl"
    assert cfg.algorithm.adv_estimator == plan.overrides["algorithm.adv_estimator"]
    assert cfg.data.apply_chat_template_kwargs.enable_thinking is False


@needs_verl
@pytest.mark.parametrize("remove_padding", [True, False])
def test_hidden_packing_aligns_with_log_probs(remove_padding):
    """pack_hidden + veRL's no_padding_2_padding put the state that predicts response token t at t."""
    from tensordict import TensorDict
    from verl.workers.utils.padding import no_padding_2_padding

    from resrl.backends.verl.workers import pack_hidden

    prompt_lens, resp_lens = [3, 2], [2, 4]
    seq = [p + r for p, r in zip(prompt_lens, resp_lens, strict=True)]
    # hidden value = (sequence index, position) so alignment is readable
    if remove_padding:
        hidden = torch.cat(
            [torch.stack([torch.full((s,), i), torch.arange(s)], -1) for i, s in enumerate(seq)]
        )[None]
        hidden = torch.cat([hidden, torch.zeros(1, 3, 2)], dim=1).float()  # 3 pad tokens at the end
    else:
        hidden = torch.zeros(2, max(seq), 2)
        for i, s in enumerate(seq):
            hidden[i, :s, 0], hidden[i, :s, 1] = i, torch.arange(s)
    packed = pack_hidden(hidden, torch.tensor(seq), remove_padding, 3)
    nested = lambda lens: torch.nested.nested_tensor([torch.zeros(n) for n in lens], layout=torch.jagged)  # noqa: E731
    data = TensorDict({"prompts": nested(prompt_lens), "responses": nested(resp_lens)}, batch_size=[2])
    out = no_padding_2_padding(packed, data)  # [B, T, 2]
    # response token t of sequence i sits at position P_i + t; its predictor is at P_i + t - 1
    assert out[0, :2, 1].tolist() == [2.0, 3.0] and out[1, :4, 1].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out[1, :, 0].tolist() == [1.0] * 4


@needs_verl
def test_model_merger_conversion_on_cpu(tmp_path):
    """A world-size-1 FSDP checkpoint (plain tensors) of a tiny Qwen3 -> HF folder via veRL's merger."""
    from resrl.backends.verl.checkpoint import convert
    from resrl.models import load_policy

    model, tok = load_policy("tiny-qwen3")
    actor = tmp_path / "ckpt" / "global_step_3" / "actor"
    (actor / "huggingface").mkdir(parents=True)
    model.config.architectures = [
        "Qwen3ForCausalLM"
    ]  # a from_pretrained config has it; the random one does not
    model.config.save_pretrained(actor / "huggingface")
    tok.save_pretrained(actor / "huggingface")
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, actor / "model_world_size_1_rank_0.pt")
    (actor / "fsdp_config.json").write_text(json.dumps({"FSDP_version": 1, "world_size": 1}))
    out = convert(tmp_path / "ckpt", tmp_path / "final_model", python=sys.executable)
    assert json.loads((out / "resrl_conversion.json").read_text())["via"] == "verl.model_merger"
    loaded, _ = load_policy({"name": "merged", "source": "hub", "hub_id": str(out), "dtype": "float32"})
    # veRL's merger writes bfloat16 (its from_config uses torch_dtype=bfloat16): equal after that rounding
    want = {k: v.to(torch.bfloat16).float() for k, v in model.state_dict().items()}
    got = loaded.state_dict()
    assert sorted(got) == sorted(want)
    for k in want:
        assert torch.equal(got[k], want[k]), k


@pytest.mark.slow
@pytest.mark.skipif(
    not VERL_VENV_PY.exists(), reason=f"{VERL_VENV_PY} is absent (see docs/cluster.md to create it)"
)
def test_in_verl_venv():
    """Run this file's verl tests under .venv-verl (what `make test-verl` does)."""
    out = subprocess.run(
        [str(VERL_VENV_PY), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(Path(__file__))],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout and "skipped" not in out.stdout.splitlines()[-1], out.stdout[-500:]
