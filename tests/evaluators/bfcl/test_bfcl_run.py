"""The BFCL pipeline and CLI: episodes through run_episodes with a scripted policy (ground-truth replies for some
entries, silence for others), transcripts, metrics, resume, settings guard; one real SmolLM2 episode (slow)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

pytest.importorskip(
    "bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker",
    reason="bfcl_eval is not importable (pip install --no-deps bfcl-eval==2026.3.23)",
)

from evaluators.bfcl import run as run_mod  # noqa: E402
from evaluators.bfcl.__main__ import CLI, main  # noqa: E402
from evaluators.bfcl.data import load_category  # noqa: E402
from evaluators.common.schema import METRIC_COLUMNS  # noqa: E402
from resrl.models.tiny import build_byte_tokenizer  # noqa: E402
from resrl.rollout.base import Rollout  # noqa: E402


class OracleSampler:
    """Plays the ground truth (one reply with the turn's calls, then an empty reply) for the entries in
    ``solve``; says nothing for the others. The entry is found from the first user message in the prompt (entries
    with the same one, e.g. base_0 and long_context_0, are taken in ``entries`` order when their episode
    starts), the reply index from the assistant turns already in the prompt."""

    def __init__(self, tok, entries, solve: set[str]) -> None:
        self.tok, self.calls = tok, 0
        self.queue: dict[str, list[list[str]]] = {}
        self.current: dict[str, list[str]] = {}
        for e in entries:
            replies = []
            for calls in e.ground_truth:
                replies += (["[" + ", ".join(calls) + "]"] if calls else []) + [""]
            self.queue.setdefault(e.question[0][0]["content"], []).append(
                replies if e.id in solve else [""] * len(replies)
            )

    def generate_from_ids(self, prompts, params):
        self.calls += 1
        out = []
        for i, p in enumerate(prompts):
            text = self.tok.decode(p, skip_special_tokens=False)
            first_user = re.search(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", text, re.DOTALL).group(1)
            k = text.count("<|im_start|>assistant") - 1
            if k == 0:
                self.current[first_user] = self.queue[first_user].pop(0)
            reply = self.current[first_user][k]
            ids = self.tok(reply, add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
            out.append(Rollout(i, 0, list(p), ids, reply, [0.0] * len(ids), "stop"))
        return out


class FakePolicy:
    """Stands in for run.EpisodePolicy: the byte tokenizer and an OracleSampler, no model."""

    instances: list[FakePolicy] = []

    def __init__(self, cfg, solve, spec=None) -> None:
        self.cfg, self.tokenizer = cfg, build_byte_tokenizer()
        entries = [e for c in cfg.categories for e in load_category(c, cfg.data_dir, cfg.limit)]
        self.sampler = OracleSampler(self.tokenizer, entries, solve)
        self.context, self.engine, self.device, self.load_seconds = None, "scripted", "cpu", 0.0
        self.enable_thinking = None
        FakePolicy.instances.append(self)

    def load(self):
        pass


@pytest.fixture
def fake_policy(monkeypatch):
    def install(solve):
        FakePolicy.instances.clear()
        monkeypatch.setattr(run_mod, "EpisodePolicy", lambda cfg, spec=None: FakePolicy(cfg, solve))

    return install


def test_compose_and_validate():
    conf = CLI.compose(["model=smollm2-135m", "subset=base", "limit=2"])
    assert conf.model["name"] == "smollm2-135m" and conf.subset == "base" and conf.limit == 2
    assert conf.categories == ["base"] and CLI.compose([]).categories == [
        "base",
        "miss_func",
        "miss_param",
        "long_context",
    ]
    assert CLI.compose(["subset=multi_turn_long_context"]).subset == "long_context"
    for bad, msg in (
        ("subset=simple", "unknown BFCL multi-turn category"),
        ("call_format=xml", "call_format"),
        ("max_turn_steps=0", "max_turn_steps must be"),
    ):
        with pytest.raises(Exception, match=msg):
            CLI.compose([bad])


def test_cli_reports_bad_values_in_one_line(capsys):
    with pytest.raises(SystemExit) as err:
        main(["subset=simple"])
    assert (
        err.value.code == 2 and "error: unknown BFCL multi-turn category 'simple'" in capsys.readouterr().err
    )
    main(["--cfg", "subset=miss_param"])
    assert "subset: miss_param" in capsys.readouterr().out


def test_run_scores_transcripts_and_resumes(tmp_path, fake_policy):
    fake_policy({"multi_turn_base_0"})
    conf = CLI.compose(
        [
            "subset=base",
            "limit=2",
            "n_boot=50",
            f"results_dir={tmp_path}",
            "progress=false",
            "episodes_per_chunk=1",
        ]
    )
    out = run_mod.run(conf)
    df = pd.read_csv(out["metrics_path"])
    assert tuple(df.columns) == METRIC_COLUMNS
    assert df[["benchmark", "metric", "k", "value"]].values.tolist() == [["bfcl_base", "accuracy", 1, 0.5]]
    records = [json.loads(line) for line in (out["samples_dir"] / "bfcl_base.jsonl").read_text().splitlines()]
    assert [(r["problem_id"], r["valid"]) for r in records] == [
        ("multi_turn_base_0", True),
        ("multi_turn_base_1", False),
    ]
    good, bad = records
    assert good["finish_reason"] == "done" and good["error_type"] is None and good["score"]["reward"] == 1.0
    assert bad["error_type"] == "multi_turn:empty_turn_model_response"
    assert good["messages"][0]["role"] == "system" and any(m["role"] == "tool" for m in good["messages"])
    assert good["replies"] == sum(2 if c else 1 for c in load_category("base", limit=1)[0].ground_truth)
    assert sum(len(s) for t in good["turn_calls"] for s in t) == sum(
        len(c) for c in load_category("base", limit=1)[0].ground_truth
    )
    info = json.loads(out["info_path"].read_text())
    assert info["bfcl_eval_version"] == "2026.3.23" and info["n_entries"] == {"base": 2}
    assert FakePolicy.instances[0].sampler.calls > 0

    # a rerun plays nothing and gives the same table
    out2 = run_mod.run(conf)
    assert FakePolicy.instances[1].sampler.calls == 0 and out2["timings"]["new_episodes"] == 0
    assert pd.read_csv(out2["metrics_path"]).equals(df)
    # other episode settings in the same run folder are refused
    with pytest.raises(ValueError, match="different \\['max_turn_steps'\\]"):
        run_mod.run(CLI.compose(["subset=base", "limit=2", f"results_dir={tmp_path}", "max_turn_steps=5"]))


def test_all_categories_give_the_overall_row(tmp_path, fake_policy):
    fake_policy({"multi_turn_base_0", "multi_turn_miss_func_0", "multi_turn_miss_param_0"})
    out = run_mod.run(CLI.compose(["limit=1", "n_boot=20", f"results_dir={tmp_path}", "progress=false"]))
    got = {r.benchmark: r.value for r in out["rows"]}
    assert got == {
        "bfcl_base": 1.0,
        "bfcl_miss_func": 1.0,
        "bfcl_miss_param": 1.0,
        "bfcl_long_context": 0.0,
        "bfcl_multi_turn": 0.75,
    }


def test_transcripts_of_another_model_are_not_reused(tmp_path, fake_policy):
    """model.seed=1 is another tiny-qwen3: its transcripts would be scored as the first one's."""
    fake_policy({"multi_turn_base_0"})
    args = [
        "model=tiny-qwen3",
        "subset=base",
        "limit=1",
        "n_boot=10",
        f"results_dir={tmp_path}",
        "progress=false",
    ]
    assert run_mod.run(CLI.compose(args))["timings"]["new_episodes"] == 1
    with pytest.raises(
        ValueError, match=r"different \['model\.seed'\].*use another run_name=, or overwrite=true"
    ):
        run_mod.run(CLI.compose([*args, "model.seed=1"]))
    assert run_mod.run(CLI.compose([*args, "model.seed=1", "overwrite=true"]))["timings"]["new_episodes"] == 1


def test_second_process_on_the_same_run_is_refused(tmp_path, fake_policy):
    from resrl.records import FolderLocked, exclusive_lock

    fake_policy(set())
    with exclusive_lock(tmp_path / "samples" / "base-tiny-qwen3" / ".lock"):
        with pytest.raises(FolderLocked, match=r"evaluation run base-tiny-qwen3 is in use .*pid"):
            run_mod.run(
                CLI.compose(["model=tiny-qwen3", "subset=base", "limit=1", f"results_dir={tmp_path}"])
            )


@pytest.mark.slow
def test_real_smollm2_episode(tmp_path):
    """SmolLM2-135M on one base entry, two replies of 8 tokens (its ~7,500-token prompt makes each reply slow on
    CPU). It does not answer in BFCL's format: the entry is cut off and scored invalid."""
    conf = CLI.compose(
        [
            "model=smollm2-135m",
            "subset=base",
            "limit=1",
            "max_new_tokens=8",
            "max_replies=2",
            f"results_dir={tmp_path}",
            "progress=false",
            "n_boot=10",
        ]
    )
    out = run_mod.run(conf)
    (rec,) = [json.loads(x) for x in (out["samples_dir"] / "bfcl_base.jsonl").read_text().splitlines()]
    assert rec["replies"] == 2 and rec["generated_tokens"] <= 16 and rec["prompt_tokens"] > 1000
    assert [r.benchmark for r in out["rows"]] == ["bfcl_base"] and out["rows"][0].value == rec["valid"]
