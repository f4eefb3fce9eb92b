"""Crashes at the worst moments, simulated in-process (the real SIGKILL runs are in test_kill_resume.py, slow):
a run that dies between a log line and its checkpoint, in the middle of a checkpoint, on a full disk, or during
the final export, and runs whose checkpoints are corrupted, all resume to the same final parameters and logs as an
uninterrupted run; sample files cut at any byte resume without lost or duplicated samples; results files are
replaced atomically (a crash or a full disk leaves the previous version)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import torch

import resrl.methods as methods
import resrl.trainer.checkpoint as ckpt_mod
from evaluators.common import SampleStore, read_jsonl
from evaluators.common.schema import MetricRow, read_metrics, write_metrics
from resrl.trainer.checkpoint import list_checkpoints
from resrl.trainer.config import TrainerConfig
from resrl.trainer.loop import Trainer
from resrl.trainer.metrics_log import read_jsonl as read_log
from tests.helpers import HashTask

STEPS = 3


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, and not KeyboardInterrupt (which the trainer handles by saving)."""


def _trainer(run_dir: Path, full: bool = True) -> Trainer:
    # full: every kept checkpoint keeps its optimizer state, so a fallback resumes bit-exactly (the default keeps it
    # in the newest only: test_fallback_without_optimizer_state_restarts_the_moments_and_says_so)
    cfg = TrainerConfig(
        steps=STEPS,
        prompts_per_step=2,
        n=4,
        mini_batch_prompts=1,
        lr=1e-3,
        warmup_steps=0,
        max_new_tokens=5,
        max_prompt_tokens=64,
        save_every=1,
        keep_checkpoints=2,
        eval_problems=1,
        eval_n=2,
        temperature=1.0,
        full_fallback_checkpoints=full,
    )
    return Trainer(methods.build("resrl", rank=4), "tiny-qwen3", HashTask(), cfg, run_dir)


def _params(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.named_parameters()}


def _logs(run_dir: Path) -> tuple[list[dict], list[dict]]:
    drop_time = lambda r: {k: v for k, v in r.items() if not k.startswith("time")}  # noqa: E731
    return (
        [drop_time(r) for r in read_log(run_dir / "metrics.jsonl")],
        [drop_time(r) for r in read_log(run_dir / "eval.jsonl")],
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run: final parameters and its (time-free) metrics and eval logs."""
    run_dir = tmp_path_factory.mktemp("reference")
    t = _trainer(run_dir)
    t.train()
    return _params(t), _logs(run_dir)


def _finish_and_compare(run_dir: Path, reference) -> Trainer:
    t = _trainer(run_dir)  # the rerun of the same command
    t.train()
    ref_params, ref_logs = reference
    params = _params(t)
    assert all(torch.equal(params[k], ref_params[k]) for k in ref_params), "final parameters differ"
    metrics, evals = _logs(run_dir)
    assert [r["step"] for r in metrics] == list(range(1, STEPS + 1))  # no step lost or duplicated
    assert (metrics, evals) == ref_logs  # the same trajectory, step by step
    assert not [p for p in run_dir.rglob(".tmp*")]  # no leftovers of interrupted writes
    assert (run_dir / "final_model" / "config.json").is_file()
    return t


# ------------------------------------------------------------------------------------------------ crashes
def test_killed_between_a_log_line_and_its_first_checkpoint(tmp_path, monkeypatch, reference):
    def die(*a, **k):
        raise Killed

    monkeypatch.setattr(Trainer, "save", die)
    with pytest.raises(Killed):
        _trainer(tmp_path).train()
    assert [r["step"] for r in read_log(tmp_path / "metrics.jsonl")] == [1]  # logged, never checkpointed
    monkeypatch.undo()
    _finish_and_compare(tmp_path, reference)


def test_killed_in_the_middle_of_writing_a_checkpoint(tmp_path, monkeypatch, reference):
    real_save = Trainer.save

    def save_then_die(self):
        if self.step == 2:  # what a SIGKILL during torch.save leaves: a half-written temporary directory
            tmp = self.ckpt_root / ".tmp_step_000002_x1y2"
            tmp.mkdir()
            (tmp / "state.pt").write_bytes(b"\x80\x02partial")
            raise Killed
        return real_save(self)

    monkeypatch.setattr(Trainer, "save", save_then_die)
    with pytest.raises(Killed):
        _trainer(tmp_path).train()
    monkeypatch.undo()
    assert [p.name for p in list_checkpoints(tmp_path / "checkpoints")] == ["step_000001"]
    _finish_and_compare(tmp_path, reference)


def test_disk_full_while_writing_a_checkpoint(tmp_path, monkeypatch, reference):
    real_torch_save = torch.save

    def save_until_full(obj, f, *a, **k):
        if isinstance(obj, dict) and obj.get("step") == 2:
            f.write(b"\x80\x02" + b"\0" * 4096)  # some bytes made it to disk, then the disk was full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_torch_save(obj, f, *a, **k)

    monkeypatch.setattr(ckpt_mod.torch, "save", save_until_full)
    with pytest.raises(OSError) as err:
        _trainer(tmp_path).train()
    assert err.value.errno == errno.ENOSPC
    monkeypatch.undo()
    ckpts = list_checkpoints(tmp_path / "checkpoints")
    assert [p.name for p in ckpts] == ["step_000001"] and ckpt_mod.verify_checkpoint(ckpts[0]) is None
    assert not list((tmp_path / "checkpoints").glob(".tmp*"))  # the partial write was removed
    _finish_and_compare(tmp_path, reference)


def test_killed_during_the_final_export(tmp_path, monkeypatch, reference):
    def die(self):
        raise Killed

    monkeypatch.setattr(Trainer, "export", die)
    with pytest.raises(Killed):
        _trainer(tmp_path).train()
    monkeypatch.undo()
    assert [r["step"] for r in read_log(tmp_path / "eval.jsonl")] == [
        0,
        STEPS,
    ]  # final eval done, not exported
    _finish_and_compare(tmp_path, reference)  # the final evaluation is redone once, not appended twice


# ------------------------------------------------------------------------------------------------ corruption
def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum can tell
    path.write_bytes(bytes(data))


CORRUPTIONS = {
    "state_truncated": lambda c: (c / "state.pt").write_bytes((c / "state.pt").read_bytes()[:500]),
    "state_bit_flip": lambda c: _flip_a_byte(c / "state.pt"),
    "meta_garbled": lambda c: (c / "meta.json").write_text('{"step": 3, "sha2'),
    "state_missing": lambda c: (c / "state.pt").unlink(),
}
MESSAGES = {
    "state_truncated": "state.pt: checksum mismatch",
    "state_bit_flip": "state.pt: checksum mismatch",
    "meta_garbled": "meta.json: unreadable",
    "state_missing": "missing meta.json or state.pt",
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupted_newest_checkpoint_is_named_and_the_previous_one_used(kind, tmp_path, capsys, reference):
    def die_at_step_3(self):
        if self.step == STEPS:
            ckpt_mod.save_checkpoint(
                self.ckpt_root, self.step, self.state_dict(), keep=self.cfg.keep_checkpoints, full=True
            )
            raise Killed
        return real_save(self)

    real_save = Trainer.save
    Trainer.save = die_at_step_3
    try:
        with pytest.raises(Killed):
            _trainer(tmp_path).train()
    finally:
        Trainer.save = real_save
    newest = list_checkpoints(tmp_path / "checkpoints")[-1]
    assert newest.name == "step_000003"
    CORRUPTIONS[kind](newest)
    capsys.readouterr()
    resumed = _trainer(tmp_path)
    err = capsys.readouterr().err
    assert f"skipping invalid checkpoint: {newest}" in err and MESSAGES[kind] in err  # names the file
    assert resumed.step == 2 and "step_000002" in err
    del resumed
    _finish_and_compare(tmp_path, reference)


def test_every_checkpoint_corrupted_restarts_from_scratch(tmp_path, capsys, reference):
    t = _trainer(tmp_path)
    t.train_step()
    t.save()
    t.train_step()
    t.save()
    for c in list_checkpoints(tmp_path / "checkpoints"):
        _flip_a_byte(c / "state.pt")
    capsys.readouterr()
    fresh = _trainer(tmp_path)
    err = capsys.readouterr().err
    assert fresh.step == 0 and err.count("checksum mismatch") == 2
    assert "step_000001/state.pt" in err and "step_000002/state.pt" in err
    del fresh
    _finish_and_compare(tmp_path, reference)


# ------------------------------------------------------------------------------------------------ samples
def _records(batch: int) -> list[dict]:
    return [
        {
            "problem_id": f"p{batch}",
            "sample_index": s,
            "text": f"answer {batch}-{s} \\boxed{{{s}}}",
            "correct": s % 2 == 0,
        }
        for s in range(3)
    ]


def test_sample_file_cut_at_any_byte_resumes_without_loss_or_duplicates(tmp_path):
    """A kill can cut the last append anywhere: at every cut point the store keeps exactly the complete lines,
    and the rerun writes each missing sample once."""
    full = tmp_path / "full.jsonl"
    store = SampleStore(full)
    for b in range(3):
        store.append(_records(b))
    data = full.read_bytes()
    wanted = {(r["problem_id"], r["sample_index"]) for b in range(3) for r in _records(b)}
    start = len(data) - sum(len(json.dumps(r, ensure_ascii=False, sort_keys=True)) + 1 for r in _records(2))
    for cut in range(start, len(data) + 1):
        path = tmp_path / f"cut{cut}.jsonl"
        path.write_bytes(data[:cut])
        complete = data[:cut][: data[:cut].rfind(b"\n") + 1]  # bytes up to the last newline
        expected = {(r["problem_id"], r["sample_index"]) for r in map(json.loads, complete.splitlines())}
        reopened = SampleStore(path)
        assert reopened.done_keys() == expected, cut
        assert reopened.dropped_partial_line == (cut != len(complete)), cut
        for b in range(3):  # the rerun offers everything again
            reopened.append(_records(b))
        keys = [(r["problem_id"], r["sample_index"]) for r in read_jsonl(path)]
        assert len(keys) == len(set(keys)) and set(keys) == wanted, cut
        path.unlink()


# ------------------------------------------------------------------------------------------------ results
ROWS = [MetricRow("m", "grpo", "arith", "avg@k", 4, 0.25, 0.1, 0.4, 4)]
NEW_ROWS = [MetricRow("m", "grpo", "arith", "avg@k", 4, 0.75, 0.5, 0.9, 4)]


@pytest.mark.parametrize("failure", ["disk_full_at_fsync", "killed_before_rename"])
def test_results_file_keeps_its_previous_version_on_a_failed_write(failure, tmp_path, monkeypatch):
    path = write_metrics(ROWS, tmp_path / "metrics.csv")
    before = path.read_bytes()
    if failure == "disk_full_at_fsync":

        def broken(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", broken)
    else:

        def broken(src, dst):
            raise Killed

        monkeypatch.setattr(os, "replace", broken)
    with pytest.raises((OSError, Killed)):
        write_metrics(NEW_ROWS, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and read_metrics(path)["value"].tolist() == [0.25]
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]  # the temporary file was removed
    write_metrics(NEW_ROWS, path)
    assert read_metrics(path)["value"].tolist() == [0.75]


def test_fallback_without_optimizer_state_restarts_the_moments_and_says_so(tmp_path, capsys):
    """Default disk policy: only the newest checkpoint keeps optimizer.pt (AdamW's moments, 2x the model). A corrupted
    newest checkpoint falls back to the previous one: weights, step and RNG restored, the moments restart, and the
    log says so."""
    t = _trainer(tmp_path, full=False)
    for _ in range(2):
        t.train_step()
        t.save()
    first, second = list_checkpoints(tmp_path / "checkpoints")
    assert not (first / "optimizer.pt").exists() and (second / "optimizer.pt").exists()
    assert ckpt_mod.verify_checkpoint(first) is None  # its meta says it has no optimizer file
    weights_at_1 = torch.load(first / "state.pt", weights_only=False)["model"]
    _flip_a_byte(second / "state.pt")
    capsys.readouterr()
    resumed = _trainer(tmp_path, full=False)
    err = capsys.readouterr().err
    assert resumed.step == 1 and "step 1 has no optimizer state" in err and "moments restart" in err
    params = dict(resumed.model.state_dict())
    assert all(torch.equal(params[k], v) for k, v in weights_at_1.items())
    assert resumed.optimizer.state == {}  # fresh moments
