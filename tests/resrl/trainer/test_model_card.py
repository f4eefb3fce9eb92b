"""Model cards of exported models: Hugging Face front matter, the method's settings, held-out accuracy with its
interval, provenance; written by the local trainer's export and by the veRL converter."""

import json
import re

import pytest
import yaml

import resrl.methods as methods
from resrl.models import load_policy
from resrl.trainer.loop import Trainer
from resrl.trainer.model_card import heldout_interval, render
from tests.helpers import HashTask, small_trainer_config

CONFIG = {
    "run_name": "paper-math-qwen3-4b-resrl-s0",
    "model": {"name": "qwen3-4b", "source": "hub", "hub_id": "Qwen/Qwen3-4B"},
    "method": {"name": "resrl", "rank": 64, "min_weight": 0.1},
    "task": {"name": "dapo_math", "hf_dataset": "BytedTsinghua-SIA/DAPO-Math-17k"},
    "trainer": {"lr": 1e-6, "n": 4, "seed": 3},
}


def _front_matter(text):
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_heldout_interval_is_avg_at_n_with_a_bootstrap_over_problems():
    rows = [
        {"problem_id": p, "correct": c} for p, cs in (("a", [1, 1]), ("b", [0, 1]), ("c", [0, 0])) for c in cs
    ]
    h = heldout_interval(rows)
    assert h["avg"] == pytest.approx(0.5) and h["problems"] == 3 and h["n"] == 2
    assert 0.0 <= h["low"] <= 0.5 <= h["high"] <= 1.0
    assert heldout_interval([]) is None
    episodes = [
        {"problem_id": "g1", "success": True},
        {"problem_id": "g2", "success": False},
    ]  # multi-turn rows
    assert heldout_interval(episodes)["avg"] == 0.5


def test_card_has_the_hub_front_matter_settings_metrics_and_provenance():
    text = render(
        CONFIG,
        steps=200,
        heldout={"avg": 0.5, "low": 0.25, "high": 0.75, "problems": 64, "n": 4},
        provenance={"git_commit": "abc123", "config_fingerprint": "f00", "seed": 3},
        backend="veRL",
    )
    front = _front_matter(text)
    assert front["base_model"] == "Qwen/Qwen3-4B" and front["library_name"] == "transformers"
    assert "resrl" in front["tags"] and front["datasets"] == ["BytedTsinghua-SIA/DAPO-Math-17k"]
    assert "| method.rank | 64 |" in text and "| steps | 200 |" in text and "| trainer.seed | 3 |" in text
    assert "**50.0%**" in text and "[25.0, 75.0]" in text and "Avg@4 on 64 held-out problems" in text
    assert "| git_commit | `abc123` |" in text and "veRL backend" in text


def test_the_local_trainers_export_writes_the_card(tmp_path):
    config = {
        "run_name": "tiny",
        "model": {"name": "tiny-qwen3", "source": "random"},
        "method": {"name": "grpo"},
        "task": {"name": "hash"},
        "trainer": {"seed": 0},
    }
    trainer = Trainer(
        methods.build("grpo"), "tiny-qwen3", HashTask(), small_trainer_config(), tmp_path, config
    )
    summary = trainer.train()
    text = (tmp_path / "final_model" / "README.md").read_text()
    front = _front_matter(text)
    assert "base_model" not in front and "grpo" in front["tags"]  # a random init has no Hub base model
    assert "| steps | 2 |" in text and "held-out problems" in text and "| git_commit |" in text
    shown = float(re.search(r"\*\*([\d.]+)%\*\*", text).group(1))
    assert summary["final_eval"]["avg_at_n"] == pytest.approx(shown / 100, abs=5e-4)


def test_the_verl_converter_writes_the_same_card(tmp_path):
    from resrl.backends.verl.checkpoint import main

    model, tok = load_policy("tiny-qwen3")
    actor = tmp_path / "run" / "verl_checkpoints" / "global_step_7" / "actor"
    model.save_pretrained(actor / "huggingface")
    tok.save_pretrained(actor / "huggingface")
    (tmp_path / "run" / "verl_plan.json").write_text(json.dumps(CONFIG))
    assert main([str(tmp_path / "run")]) == 0
    text = (tmp_path / "run" / "final_model" / "README.md").read_text()
    assert _front_matter(text)["base_model"] == "Qwen/Qwen3-4B"
    assert "| steps | 7 |" in text and "veRL backend" in text and "No held-out evaluation" in text
