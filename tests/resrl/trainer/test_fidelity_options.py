"""Recipe choices of the local trainer that follow the authors' release (docs/fidelity.md), each with its
alternative reading as an option: warm-up from lr 0, separate train/eval temperatures, FlowRL's log Z head in the
actor's optimiser, and the prompt representation without the last prompt token."""

from __future__ import annotations

import pytest
import torch

import resrl.methods as methods
from resrl.trainer.config import TrainerConfig, warmup_factor
from resrl.trainer.loop import Trainer
from resrl.trainer.policy_forward import policy_forward
from tests.helpers import HashTask as SharedHashTask
from tests.helpers import small_trainer_config


class HashTask(SharedHashTask):
    prompt = "q{index} {split}"
    wrong = -1.0


def _cfg(**kw):
    return small_trainer_config(**kw)


def test_warmup_starts_at_zero_like_verl():
    """veRL's constant-with-warm-up (release, 10 steps): factor step/10, so training step 1 runs at lr 0."""
    assert [warmup_factor(s, 10) for s in (0, 1, 5, 9, 10, 50)] == [0.0, 0.1, 0.5, 0.9, 1.0, 1.0]
    assert [warmup_factor(s, 10, from_zero=False) for s in (0, 1, 9, 10)] == [0.1, 0.2, 1.0, 1.0]
    assert warmup_factor(0, 0) == 1.0


def test_trainer_lr_per_step_follows_the_schedule(tmp_path):
    trainer = Trainer(
        methods.build("grpo"), "tiny-qwen3", HashTask(), _cfg(steps=3, warmup_steps=2), tmp_path
    )
    lrs = []
    for _ in range(3):
        lrs.append(trainer.optimizer.param_groups[0]["lr"])
        trainer.train_step()
    assert lrs == pytest.approx([0.0, 0.5e-3, 1e-3])


def test_training_and_evaluation_temperatures_are_separate(tmp_path):
    """Release: training rollouts at 1.0 (veRL's default), validation at 0.6 (val_kwargs)."""
    assert TrainerConfig().temperature == 1.0 and TrainerConfig().eval_temperature == 0.6
    trainer = Trainer(
        methods.build("grpo"), "tiny-qwen3", HashTask(), _cfg(temperature=0.9, eval_temperature=0.3), tmp_path
    )
    seen = []

    def spying(inner):
        def spy(prompts, params):
            seen.append(params.temperature)
            return inner(prompts, params)

        return spy

    for name in ("generate", "generate_from_ids"):
        setattr(trainer.sampler, name, spying(getattr(trainer.sampler, name)))
    trainer.train_step()
    trainer.evaluate()
    assert seen == [0.9, 0.3]
    with pytest.raises(ValueError, match="trainer.eval_temperature must be > 0"):
        _cfg(eval_temperature=0.0)


def test_flowrl_log_z_head_trains_in_the_actors_optimiser(tmp_path):
    """FlowRL's code: proj_z inside the actor's AdamW (same lr and weight decay); logz_lr gives it its own group."""
    trainer = Trainer(methods.build("flowrl"), "tiny-qwen3", HashTask(), _cfg(weight_decay=0.1), tmp_path)
    groups = trainer.optimizer.param_groups
    head = {id(p) for p in trainer.modules["log_z"].parameters()}
    assert len(groups) == 1 and head <= {id(p) for p in groups[0]["params"]}
    assert groups[0]["lr"] == 1e-3 and groups[0]["weight_decay"] == 0.1
    assert trainer.modules["log_z"].net[3].p == 0.1  # dropout as FlowRL's ProjZModule
    own = Trainer(methods.build("flowrl", logz_lr=1e-2), "tiny-qwen3", HashTask(), _cfg(), tmp_path / "own")
    assert [g["lr"] for g in own.optimizer.param_groups] == [1e-3, 1e-2]
    assert {id(p) for p in own.modules["log_z"].parameters()} == {
        id(p) for p in own.optimizer.param_groups[1]["params"]
    }


def test_prompt_representation_can_leave_out_the_last_prompt_token():
    from resrl.models import load_policy

    model, _ = load_policy("tiny-qwen3")
    ids = torch.tensor([[0, 5, 6, 7, 8, 9]])
    mask = torch.tensor([[0, 1, 1, 1, 1, 1]])  # one left pad, prompt = 4 tokens, response = 2
    full = policy_forward(model, ids, mask, 4, 1.0, with_prompt_repr=True)
    short = policy_forward(model, ids, mask, 4, 1.0, with_prompt_repr=True, prompt_repr_exclude_last=True)
    out = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
        output_hidden_states=True,
    )
    top = out.hidden_states[-1][0]
    torch.testing.assert_close(full.prompt_repr[0], top[1:4].mean(0))
    torch.testing.assert_close(short.prompt_repr[0], top[1:3].mean(0))


# ------------------------------------------------------------------------------------------- positives, groups
class PartialRewardEnv:
    """Every episode earns a partial reward (> 0) but only every other copy built succeeds (WebShop-like)."""

    tools = None
    built = 0

    def __init__(self, index: int) -> None:
        self.episode_id, self.index = f"partial-{index}", PartialRewardEnv.built
        PartialRewardEnv.built += 1

    def reset(self):
        return [{"role": "user", "content": f"Episode {self.index}: buy something."}]

    def step(self, action):
        from resrl.rollout.multi_turn import EnvStep

        return EnvStep([], done=True)

    def score(self):
        return {"reward": 0.5 + 0.1 * (self.index % 4), "success": float(self.index % 2 == 0)}

    def close(self):
        pass


def test_episode_positives_are_the_success_flags_not_reward_above_zero(tmp_path):
    """A failed episode with a partial reward is a negative for ResRL's subspace and W-REINFORCE's +lambda."""
    from resrl.tasks.env_task import EnvTask, EnvTaskConfig

    cfg = EnvTaskConfig(
        name="partial", factory="tests:unused", train_size=50, test_size=4, max_turns=2, max_total_tokens=256
    )
    PartialRewardEnv.built = 0
    task = EnvTask(cfg, factory=lambda split, episodes, seed: [PartialRewardEnv(i) for i in range(episodes)])
    trainer = Trainer(methods.build("w_reinforce"), "tiny-qwen3", task, _cfg(), tmp_path)
    groups, record = trainer.collect()
    assert all(s > 0 for g in groups for s in g.scores)  # every episode has a partial reward ...
    flags = [f for g in groups for f in g.positive_flags()]
    assert flags == [float(t.score["success"]) > 0 for g in groups for t in g.trajectories]
    assert 0 < sum(flags) < len(flags)  # ... only some of them succeed
    rec = trainer.update(groups, record)
    assert rec["pass_rate"] == pytest.approx(sum(flags) / len(flags))
    adv = methods.build("w_reinforce").sequence_advantages(
        torch.zeros(4), torch.tensor([True, False, True, False]), torch.zeros(4, dtype=torch.long)
    )
    assert adv.tolist() == pytest.approx([0.1, -1.0, 0.1, -1.0])


def test_release_grouping_fits_subspaces_on_group_and_micro_batch():
    """The release's grouping: lengths of 2 prompts x 4 responses balanced over 2 ranks, micro-batches of 2
    (resrl.algorithms.balancing, checked against veRL in make test-verl). The prompt grouping returns None."""
    m = methods.build("resrl", grouping="release_micro_batch", release_world_size=2, release_micro_batch=2)
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    lengths = torch.tensor([10, 20, 30, 40, 15, 25, 35, 45])
    assert m.subgroups(groups, lengths).tolist() == [1, 0, 0, 1, 2, 3, 3, 2]
    assert methods.build("resrl").subgroups(groups, lengths) is None
    with pytest.raises(
        ValueError, match="7 responses per step cannot be balanced over method.release_world_size=2"
    ):
        m.subgroups(groups[:7], lengths[:7])


def test_release_grouping_changes_the_weights_the_trainer_uses(tmp_path):
    """Inside one prompt group, responses in different release micro-batches get separate subspaces: the weights
    equal residual_token_weights called with the subgroup ids, not with the group id."""
    from resrl.algorithms.resrl import residual_token_weights
    from resrl.methods.base import PolicyInputs

    g = torch.Generator().manual_seed(0)
    hidden, mask = torch.randn(4, 6, 8, generator=g), torch.ones(4, 6, dtype=torch.bool)
    scores = torch.tensor([1.0, -1.0, 1.0, -1.0])
    sub = torch.tensor([0, 0, 1, 1])
    m = methods.build("resrl", rank=2)
    inputs = PolicyInputs(
        log_probs=torch.zeros(4, 6),
        old_log_probs=torch.zeros(4, 6),
        response_mask=mask,
        rewards=scores,
        scores=scores,
        group_ids=torch.zeros(4, dtype=torch.long),
        advantages=scores,
        hidden=hidden,
        subgroup_ids=sub,
        sample_seed=5,
    )
    got = m.token_weights(inputs)
    want = residual_token_weights(
        hidden, mask, scores > 0, sub, rank=2, generator=torch.Generator().manual_seed(5)
    )
    whole = residual_token_weights(hidden, mask, scores > 0, torch.zeros(4, dtype=torch.long), rank=2)
    assert torch.equal(got, want) and not torch.equal(got, whole)


# -------------------------------------------------------------------------------------- loss aggregation, DAPO
def test_micro_batch_scales_hand_values():
    from resrl.trainer.config import micro_batch_scales

    masks = [torch.ones(4, 3), torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 0], [1, 0, 0]])]  # 12 and 4 tokens
    assert micro_batch_scales(masks, "micro_batch_mean", "token-mean") == [0.5, 0.5]  # the release
    assert micro_batch_scales(masks, "global_token_mean", "token-mean") == pytest.approx([12 / 16, 4 / 16])
    assert micro_batch_scales(masks, "global_token_mean", "seq-mean-token-mean") == pytest.approx(
        [4 / 7, 3 / 7]
    )
    with pytest.raises(ValueError, match="trainer.loss_aggregation='sum'"):
        micro_batch_scales(masks, "sum", "token-mean")


def test_dapo_trainer_raises_when_generation_batches_run_out(tmp_path):
    """veRL's DAPO recipe raises once max_num_gen_batches is reached; a task whose groups are all wrong shows it."""
    from resrl.algorithms.dapo import DynamicSamplingExhausted

    class AllWrong(HashTask):
        def reward(self, response, answer):
            return -1.0

    trainer = Trainer(methods.build("dapo", max_sampling_tries=2), "tiny-qwen3", AllWrong(), _cfg(), tmp_path)
    with pytest.raises(DynamicSamplingExhausted, match="after 2 generation batches of 2 prompts"):
        trainer.collect()
    partial = Trainer(
        methods.build("dapo", max_sampling_tries=2, on_exhausted="partial"),
        "tiny-qwen3",
        AllWrong(),
        _cfg(),
        tmp_path / "p",
    )
    groups, stats = partial.collect()
    assert groups == [] and stats["dapo/tries"] == 2.0
