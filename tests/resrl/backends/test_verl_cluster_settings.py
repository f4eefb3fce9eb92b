"""Settings a first cluster run needs (issue 16, defects 7, 10, 11), checked without verl: the job's interpreter
reaches every Ray worker, Ray gets SLURM's CPU count, and overrides that would split prompt groups are refused."""

from __future__ import annotations

import os
import re
import sys

import pytest
import torch

from resrl.backends.verl.config import ClusterSettings, check_extra_overrides, ray_num_cpus, translate
from resrl.backends.verl.grouping import check_whole_groups
from resrl.backends.verl.launch import compose, main
from resrl.paths import REPO_ROOT


def _plan(environ, **cluster):
    config = compose(["method=resrl", "model=qwen3-1.7b"])
    prof = ClusterSettings.from_mapping({**config["cluster"], **cluster})
    return translate(config, prof, REPO_ROOT / "r", environ=environ)


def test_ray_gets_slurms_cpu_count_and_nothing_when_joining_a_cluster():
    plan = _plan({"SLURM_CPUS_PER_TASK": "16", "SLURM_CPUS_ON_NODE": "64"})
    assert plan.overrides["ray_kwargs.ray_init.num_cpus"] == 16
    assert _plan({"SLURM_CPUS_ON_NODE": "32(x2)"}).overrides["ray_kwargs.ray_init.num_cpus"] == 32
    assert (
        "ray_kwargs.ray_init.num_cpus"
        not in _plan({"RAY_ADDRESS": "10.0.0.1:6379", "SLURM_CPUS_PER_TASK": "16"}).overrides
    )
    assert "ray_kwargs.ray_init.num_cpus" not in _plan({}).overrides
    assert (
        _plan({"SLURM_CPUS_PER_TASK": "16"}, ray_num_cpus=12).overrides["ray_kwargs.ray_init.num_cpus"] == 12
    )
    assert ray_num_cpus(ClusterSettings(), {"SLURM_CPUS_PER_TASK": ""}) is None


def test_every_ray_worker_uses_the_jobs_interpreter():
    plan = _plan({}, python=None)
    assert plan.overrides["ray_kwargs.ray_init.runtime_env.py_executable"] == os.path.abspath(sys.executable)
    plan = _plan({}, python=".venv-cluster/bin/python")
    want = os.path.abspath(".venv-cluster/bin/python")
    assert plan.overrides["ray_kwargs.ray_init.runtime_env.py_executable"] == want
    assert plan.command(ClusterSettings(python=".venv-cluster/bin/python").python)[0] == want


def test_check_whole_groups():
    check_whole_groups(torch.tensor([3, 3, 3, 3, 7, 7, 7, 7]), 4)
    with pytest.raises(ValueError, match=r"groups of sizes \[2\], not whole groups of n=4"):
        check_whole_groups(torch.tensor([3, 3, 3, 3, 7, 7]), 4)


@pytest.mark.parametrize(
    "extra",
    [
        "actor_rollout_ref.actor.use_dynamic_bsz=true",
        "actor_rollout_ref.actor.shuffle=True",
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=8",
    ],
)
def test_group_splitting_overrides_are_refused(extra, capsys):
    with pytest.raises(ValueError, match="prompt group"):
        check_extra_overrides([extra], 4)
    assert main(["method=resrl", "model=qwen3-1.7b", "dry_run=true", "--", extra]) == 2
    assert "error: veRL override" in capsys.readouterr().err
    check_extra_overrides(["actor_rollout_ref.actor.use_dynamic_bsz=false", "trainer.logger=[console]"], 4)


def test_attention_kernels_are_a_profile_setting():
    plan = _plan({})
    assert (
        plan.overrides["+actor_rollout_ref.model.override_config.attn_implementation"] == "flash_attention_2"
    )
    plan = _plan({}, attn_implementation="sdpa")
    assert plan.overrides["+actor_rollout_ref.model.override_config.attn_implementation"] == "sdpa"
    assert (
        plan.overrides["actor_rollout_ref.model.use_remove_padding"] is False
    )  # remove-padding needs flash_attn
    with pytest.raises(
        ValueError, match="cluster.attn_implementation='flash'; valid: flash_attention_2, sdpa"
    ):
        ClusterSettings(attn_implementation="flash")


def test_launch_refuses_an_interpreter_without_the_gpu_stack_before_writing_anything(tmp_path, capsys):
    """A job interpreter without verl/vllm/flash_attn would fail inside Ray workers after minutes; the launcher
    checks it first (this test venv has none of them) and leaves no run folder behind."""
    out = tmp_path / "run"
    code = main(["method=grpo", "model=qwen3-1.7b", f"output_dir={out}", f"cluster.python={sys.executable}"])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    # the main venv lacks all three; .venv-verl (make test-verl) has verl but not vllm or flash_attn
    assert re.search(
        rf"error: cluster.python={re.escape(sys.executable)} lacks (verl, )?vllm, flash_attn", err
    ), err
    assert "cluster.attn_implementation=sdpa" in err


def test_release_grouping_is_refused_on_verl():
    config = compose(["method=resrl", "model=qwen3-1.7b", "method.grouping=release_micro_batch"])
    with pytest.raises(
        ValueError, match="method.grouping='release_micro_batch' runs on the local trainer only"
    ):
        translate(config, ClusterSettings.from_mapping(config["cluster"]), REPO_ROOT / "r", environ={})


def test_loss_aggregation_reaches_the_actor_and_scales_micro_batches():
    """Two ranks, 4 micro-batches of one group of 4 each (16 sequences); a micro-batch with 6 of the mini-batch's
    40 valid tokens. micro_batch_mean (the release): every micro-batch weighs 1/4 after veRL's average over the
    2 ranks, so the factor is 2 / 4 = 0.5 whatever its token count. global_token_mean (veRL 0.9.1): 6 * 2 / 40."""
    from resrl.backends.verl.losses import global_scale

    plan = _plan({})
    assert plan.env["RESRL_VERL_LOSS_AGGREGATION"] == "micro_batch_mean"
    mask = torch.zeros(4, 5, dtype=torch.bool)
    mask[0, :3] = mask[1, :2] = mask[2, :1] = True
    info = {"dp_size": 2, "global_batch_size": 16, "batch_num_tokens": 40}
    assert global_scale(mask, "token-mean", info, "micro_batch_mean") == pytest.approx(0.5)
    assert global_scale(mask, "token-mean", info, "global_token_mean") == pytest.approx(6 * 2 / 40)
