"""Config translation, launcher dry run, group balancing and checkpoint layout (pure Python, no verl)."""

import json
import subprocess
import sys

import pytest
import torch

from resrl.backends.verl.config import (
    LOSS_AGG_ENV,
    METHOD_ENV,
    ClusterSettings,
    format_override,
    method_from_env,
    translate,
)
from resrl.backends.verl.grouping import balanced_group_order, group_key
from resrl.backends.verl.launch import compose, split_argv, write_train_parquet
from resrl.paths import REPO_ROOT

AR = "actor_rollout_ref"
METHODS = ["grpo", "dapo", "nsr", "w_reinforce", "flowrl", "resrl"]
MODELS = {"qwen3-1.7b": "Qwen/Qwen3-1.7B", "qwen3-4b": "Qwen/Qwen3-4B", "qwen3-8b": "Qwen/Qwen3-8B"}


@pytest.fixture(scope="module")
def composed():
    """Every method x model through Hydra once (compose is the slow part)."""
    return {(m, mdl): compose([f"method={m}", f"model={mdl}"]) for m in METHODS for mdl in MODELS}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("method", METHODS)
def test_paper_translation(composed, method, model):
    config = composed[(method, model)]
    plan = translate(config, ClusterSettings.from_mapping(config["cluster"]), REPO_ROOT / "results/runs/x")
    o = plan.overrides
    # the paper's settings (trainer/paper.yaml) and the authors' layout (cluster/paper.yaml)
    assert o["data.train_batch_size"] == 256
    assert o[f"{AR}.actor.ppo_mini_batch_size"] == 64
    assert o[f"{AR}.rollout.n"] == 4
    assert o[f"{AR}.actor.ppo_micro_batch_size_per_gpu"] == 4  # one prompt group per micro-batch
    assert o[f"{AR}.rollout.log_prob_micro_batch_size_per_gpu"] == 4
    assert o[f"{AR}.actor.use_dynamic_bsz"] is False
    assert o["data.max_prompt_length"] == 2048 and o["data.max_response_length"] == 4096
    assert o[f"{AR}.actor.ppo_max_token_len_per_gpu"] == 6144
    assert o[f"{AR}.actor.optim.lr"] == 1e-6 and o[f"{AR}.actor.optim.lr_warmup_steps"] == 10
    assert o[f"{AR}.actor.optim.weight_decay"] == 0.1
    assert o[f"{AR}.actor.entropy_coeff"] == 0.0 and o[f"{AR}.actor.kl_loss_coef"] == 0.0
    # the release trains at veRL's default temperature 1.0 and validates at 0.6 (train_command.sh val_kwargs)
    assert o[f"{AR}.rollout.temperature"] == 1.0 and o[f"{AR}.rollout.top_p"] == 1.0
    assert o[f"{AR}.rollout.val_kwargs.temperature"] == 0.6
    assert o[f"{AR}.rollout.tensor_model_parallel_size"] == 4
    assert o["trainer.nnodes"] == 1 and o["trainer.n_gpus_per_node"] == 8
    assert o["trainer.total_training_steps"] == 100 and o["trainer.save_freq"] == 50
    assert o[f"{AR}.model.path"] == MODELS[model]
    assert o["+data.apply_chat_template_kwargs.enable_thinking"] is False  # math: no-think
    assert o[f"{AR}.actor.policy_loss.loss_mode"] == "resrl"
    assert o["trainer.v1.trainer_mode"] == "resrl_sync"
    assert o["reward.reward_manager.name"] == "resrl"
    clip_high = 0.28 if method == "dapo" else 0.2
    assert o[f"{AR}.actor.clip_ratio_low"] == 0.2 and o[f"{AR}.actor.clip_ratio_high"] == clip_high
    assert o["algorithm.adv_estimator"] == (
        "resrl_w_reinforce" if method in ("nsr", "w_reinforce") else "resrl_grpo"
    )
    assert o["algorithm.filter_groups.enable"] is (method == "dapo")
    assert o[f"{AR}.actor.use_kl_loss"] is (method == "flowrl")  # FlowRL needs pi_ref's log-probs
    sent = json.loads(plan.env[METHOD_ENV])
    assert sent == {"name": method, **{k: v for k, v in config["method"].items() if k != "name"}}
    assert plan.train_parquet == REPO_ROOT / "results/runs/x/data/train.parquet"


def test_resrl_length_reward_travels_with_the_method(composed):
    config = composed[("resrl", "qwen3-4b")]
    plan = translate(config, ClusterSettings(), REPO_ROOT / "r")
    sent = json.loads(plan.env[METHOD_ENV])
    assert (sent["length_reward"], sent["length_max"], sent["length_start"], sent["length_end_scale"]) == (
        True,
        4096,
        3500,
        0.7,
    )
    assert (sent["layer"], sent["rank"], sent["min_weight"], sent["pos_scale"]) == (-2, 64, 0.1, 0.1)
    method = method_from_env({METHOD_ENV: plan.env[METHOD_ENV]})
    # 1.0 accepted at 3797.5 tokens: factor 1 - 0.3 * (297.5 / 596) ~ 0.85025
    shaped = method.shape_rewards(torch.tensor([1.0, 0.0]), torch.tensor([3797.5, 4000]))
    assert shaped[0].item() == pytest.approx(1 - 0.3 * 297.5 / 596, rel=1e-6) and shaped[1].item() == 0.0


def test_size_and_model_errors(composed):
    config = composed[("grpo", "qwen3-4b")]
    with pytest.raises(ValueError, match="mini_batch_prompts=12 must be a multiple of the 8 GPUs"):
        translate(
            {**config, "trainer": {**config["trainer"], "mini_batch_prompts": 12, "prompts_per_step": 24}},
            ClusterSettings(),
            REPO_ROOT,
        )
    with pytest.raises(ValueError, match="tensor parallel size 3"):
        translate(config, ClusterSettings(rollout_tp=3), REPO_ROOT)
    with pytest.raises(ValueError, match="source 'gguf_package'"):
        translate(
            {**config, "model": {"name": "smollm2-135m", "source": "gguf_package"}},
            ClusterSettings(),
            REPO_ROOT,
        )
    with pytest.raises(ValueError, match="unknown cluster field"):
        ClusterSettings.from_mapping({"gpus": 8})
    assert ClusterSettings(rollout_tp_by_model={"qwen3-8b": 8}).tp_for("qwen3-8b") == 8


def test_profiles_compose():
    two = compose(["cluster=two_nodes", "method=grpo"])
    plan = translate(two, ClusterSettings.from_mapping(two["cluster"]), REPO_ROOT)
    assert plan.overrides["trainer.nnodes"] == 2 and plan.overrides["trainer.n_gpus_per_node"] == 8
    smoke = compose(
        ["cluster=smoke", "trainer.prompts_per_step=2", "trainer.mini_batch_prompts=1", "trainer.steps=2"]
    )
    plan = translate(smoke, ClusterSettings.from_mapping(smoke["cluster"]), REPO_ROOT)
    assert plan.overrides[f"{AR}.rollout.tensor_model_parallel_size"] == 1
    assert plan.overrides["data.train_batch_size"] == 2 and plan.overrides["trainer.logger"] == ["console"]


def test_format_override():
    assert format_override(None) == "null" and format_override(False) == "false"
    assert format_override(1e-6) == "1e-06" and format_override([0.9, 0.999]) == "[0.9,0.999]"
    assert format_override("Qwen/Qwen3-4B") == "Qwen/Qwen3-4B"
    assert format_override("a b") == "'a b'" and format_override("true") == "'true'"
    assert split_argv(["method=grpo", "--", "trainer.logger=[console]"]) == (
        ["method=grpo"],
        ["trainer.logger=[console]"],
    )


def test_method_from_env_errors():
    with pytest.raises(RuntimeError, match="RESRL_VERL_METHOD is not set"):
        method_from_env({})
    with pytest.raises(ValueError, match="unknown method 'ppo2'"):
        method_from_env({METHOD_ENV: '{"name": "ppo2"}'})


def test_balanced_group_order_keeps_groups_whole():
    # groups a..d of 2 samples; workloads a=10, b=1, c=6, d=5 -> ranks {a, b} = 11 and {c, d} = 11
    groups = ["a", "a", "b", "b", "c", "c", "d", "d"]
    work = [5, 5, 0.5, 0.5, 3, 3, 2.5, 2.5]
    order = balanced_group_order(groups, work, 2)
    assert order == [0, 1, 2, 3, 4, 5, 6, 7]
    # with loads a=10, b=9, c=1, d=2: a -> r0, b -> r1, d -> r1 (9 < 10), c -> r0
    order = balanced_group_order(groups, [5, 5, 4.5, 4.5, 0.5, 0.5, 1, 1], 2)
    assert order == [0, 1, 4, 5, 2, 3, 6, 7]
    with pytest.raises(ValueError, match="cannot be split evenly"):
        balanced_group_order(groups[:6], work[:6], 2)
    with pytest.raises(ValueError, match="different sizes"):
        balanced_group_order(["a", "a", "b"], [1, 1, 1], 1)
    assert group_key("3f2a-uid_0_1") == "3f2a-uid"


def test_write_train_parquet(tmp_path):
    import pandas as pd

    path = tmp_path / "d" / "train.parquet"
    n = write_train_parquet(
        {
            "name": "arith",
            "level": 1,
            "seed": 0,
            "train_size": 50,
            "test_size": 5,
            "reward": "boxed_int",
            "enable_thinking": False,
        },
        path,
        3,
    )
    df = pd.read_parquet(path)
    assert n == 3 and list(df["data_source"]) == ["arith"] * 3
    assert df["prompt"][0][0]["role"] == "user" and "\\boxed{}" in df["prompt"][0][0]["content"]
    assert df["extra_info"][2]["reward"] == "boxed_int" and df["reward_model"][0]["style"] == "rule"


def test_launcher_dry_run_prints_full_command(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "resrl.backends.verl.launch",
            "cluster=paper",
            "method=resrl",
            "model=qwen3-4b",
            "dry_run=true",
            f"output_dir={tmp_path / 'run'}",
            "--",
            "trainer.logger=[console]",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    head, _, command = out.stdout.partition("# veRL command (dry run, nothing written or started):")
    summary = json.loads(head)
    assert summary["train_rows"] == 100 * 256
    line = command.strip()
    assert (
        line.startswith(f"{LOSS_AGG_ENV}=micro_batch_mean {METHOD_ENV}=")
        and " -m resrl.backends.verl.main " in line
    )
    for piece in (
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=4",
        "actor_rollout_ref.rollout.n=4",
        "actor_rollout_ref.model.path=Qwen/Qwen3-4B",
        "algorithm.adv_estimator=resrl_grpo",
        "'trainer.logger=[console]'",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=4",
    ):
        assert piece in line, piece
    assert len(summary["command"]) == 3 + len(summary["overrides"]) + 1
    assert (
        summary["command"][-1] == "trainer.logger=[console]"
    )  # the user's extra override comes last and wins
    assert not (tmp_path / "run").exists()  # a dry run writes nothing


def test_a_method_reading_response_text_is_refused_on_verl(tmp_path):
    """ResT needs each response's text (Method.token_features); the veRL actor does not pass it: one line at
    translation, pointing to the local trainer."""
    config = compose(["method=rest", "model=qwen3-1.7b"])
    with pytest.raises(ValueError, match="method=rest reads the response text.*local trainer"):
        translate(config, ClusterSettings(), REPO_ROOT / "r")
    # and the sandbox-scored and ToolRL-scored tasks travel to veRL as named rewards, ToolRL as a score
    rows = tmp_path / "rows.parquet"
    write_train_parquet({"name": "toolrl_tiny", **_task("toolrl_tiny")}, rows, 2)
    import pandas as pd

    info = pd.read_parquet(rows)["extra_info"].iloc[0]
    assert info["reward"] == "resrl.verifiers.toolrl:toolrl_reward" and bool(info["scored"]) is True


def _task(name):
    import yaml

    return yaml.safe_load((REPO_ROOT / "experiments" / "task" / f"{name}.yaml").read_text())


def test_ppo_gets_verls_critic_and_gae():
    config = compose(["method=ppo", "model=qwen3-4b"])
    o = translate(config, ClusterSettings(), REPO_ROOT / "r").overrides
    assert o["algorithm.adv_estimator"] == "gae" and o["critic.enable"] is True
    assert o["critic.model.path"] == "Qwen/Qwen3-4B" and o["critic.optim.lr"] == 1e-5
    assert o["algorithm.gamma"] == 1.0 and o["algorithm.lam"] == 1.0
    grpo = translate(compose(["method=grpo", "model=qwen3-4b"]), ClusterSettings(), REPO_ROOT / "r").overrides
    assert "critic.enable" not in grpo  # no value model for the critic-free methods


def test_the_local_trainer_refuses_a_method_that_needs_a_critic():
    proc = subprocess.run(
        [sys.executable, "-m", "resrl.train", "method=ppo", "model=tiny-qwen3", "task=arith", "trainer=test"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: method=ppo needs a value model (critic)")
