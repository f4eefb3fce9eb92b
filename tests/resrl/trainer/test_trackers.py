"""Experiment trackers of the local trainer: veRL's names, TensorBoard events TensorBoard's own reader loads, a
resumed run without duplicate steps, W&B offline without an account."""

import pytest

import resrl.methods as methods
from resrl.trainer.loop import Trainer
from resrl.trainer.trackers import Trackers, check_trackers, scalars
from tests.helpers import HashTask, small_trainer_config


def _events(run_dir):
    """{tag: [(step, value), ...]} as TensorBoard's reader loads them (purged steps dropped)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_scalars_take_verls_names_and_leave_out_what_is_not_a_finite_number():
    rec = {
        "step": 3,
        "reward_mean": 0.5,
        "pass_rate": 0.25,
        "grad_norm": 1.5,
        "done": True,
        "x": float("nan"),
    }
    assert scalars(rec) == {"critic/score/mean": 0.5, "pass_rate": 0.25, "actor/grad_norm": 1.5}
    assert scalars({"accuracy": 0.75}, prefix="val/") == {"val/accuracy": 0.75}


def test_an_unknown_tracker_is_named():
    with pytest.raises(ValueError, match=r"trainer.logger: unknown tracker\(s\) \['tensorbord'\]"):
        check_trackers(["console", "tensorbord"])
    from resrl.trainer.config import TrainerConfig

    with pytest.raises(ValueError, match="trainer.logger"):
        TrainerConfig(logger=["mlflow"])


def test_a_resumed_run_appends_to_the_same_tensorboard_run_without_duplicate_steps(tmp_path):
    first = Trackers(["tensorboard"], tmp_path, "p", "run")
    for step in (1, 2, 3, 4):  # the run is killed after logging step 4; its last checkpoint is step 2
        first.log({"reward_mean": float(step)}, step)
    first.close()
    resumed = Trackers(["tensorboard"], tmp_path, "p", "run", start_step=2)
    for step in (3, 4, 5):
        resumed.log({"reward_mean": 10.0 * step}, step)
    resumed.close()
    assert _events(tmp_path)["critic/score/mean"] == [(1, 1.0), (2, 2.0), (3, 30.0), (4, 40.0), (5, 50.0)]


def test_a_tiny_training_writes_events_tensorboard_reads(tmp_path):
    cfg = small_trainer_config(steps=2, logger=["console", "tensorboard"])
    Trainer(methods.build("grpo"), "tiny-qwen3", HashTask(), cfg, tmp_path).train()
    events = _events(tmp_path)
    assert [s for s, _ in events["critic/score/mean"]] == [1, 2]
    assert [s for s, _ in events["actor/grad_norm"]] == [1, 2] and "pass_rate" in events
    assert {s for s, _ in events["val/avg_at_n"]} == {0, 2}  # held-out evaluation before and after


def test_wandb_runs_offline_without_an_account(tmp_path, monkeypatch):
    pytest.importorskip("wandb")  # installed with the dev extra
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    t = Trackers(["wandb"], tmp_path, "resrl", "run", config={"lr": 1e-6})
    t.log({"reward_mean": 0.5}, 1)
    t.close()
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
