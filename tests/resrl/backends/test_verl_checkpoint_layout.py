"""veRL checkpoint layout -> save_pretrained folder (the copy path runs without verl)."""

import json

import pytest
import torch

from resrl.backends.verl.checkpoint import convert, find_actor_checkpoint, merger_command
from resrl.models import load_policy


def _actor(root, step):
    actor = root / f"global_step_{step}" / "actor"
    actor.mkdir(parents=True)
    return actor


def test_find_actor_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no veRL checkpoint"):
        find_actor_checkpoint(tmp_path)
    _actor(tmp_path, 50)
    _actor(tmp_path, 100)
    (tmp_path / "global_step_150").mkdir()  # no actor/: not a checkpoint
    assert find_actor_checkpoint(tmp_path)[0] == 100
    (tmp_path / "latest_checkpointed_iteration.txt").write_text("50")
    assert find_actor_checkpoint(tmp_path) == (50, tmp_path / "global_step_50" / "actor")
    with pytest.raises(FileNotFoundError, match=r"available: \[50, 100\]"):
        find_actor_checkpoint(tmp_path, 7)
    cmd = merger_command(tmp_path / "a", tmp_path / "b", "py")
    assert cmd[:6] == ["py", "-m", "verl.model_merger", "merge", "--backend", "fsdp"]


def test_convert_copies_hf_weights_and_loads(tmp_path):
    model, tok = load_policy("tiny-qwen3")
    actor = _actor(tmp_path / "ckpt", 2)
    model.save_pretrained(actor / "huggingface")
    tok.save_pretrained(actor / "huggingface")
    out = convert(tmp_path / "ckpt", tmp_path / "final_model")
    assert json.loads((out / "resrl_conversion.json").read_text())["step"] == 2
    loaded, _ = load_policy({"name": "converted", "source": "hub", "hub_id": str(out), "dtype": "float32"})
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert not list((tmp_path).glob(".tmp_*"))


def test_convert_without_weights_or_shards_fails(tmp_path):
    actor = _actor(tmp_path / "ckpt", 1)
    (actor / "huggingface").mkdir()
    with pytest.raises(FileNotFoundError, match="fsdp_config.json"):
        convert(tmp_path / "ckpt", tmp_path / "out")
    assert not (tmp_path / "out").exists()
