"""The evaluation runner end to end on the shipped ALFWorld games, with a scripted policy played through
``run_episodes``: stored transcripts, metrics rows, resume, refusal to mix settings, the CLI config."""

import json
from types import SimpleNamespace

import pytest

from evaluators.agents.__main__ import CLI
from evaluators.agents.config import AgentEvalConfig
from evaluators.agents.registry import make_envs
from evaluators.agents.run import episode_key, run
from evaluators.common import read_metrics
from resrl.paths import REPO_ROOT

ALFWORLD_DIR = str(REPO_ROOT / "data" / "agents" / "alfworld")
TINY = {"name": "tiny-qwen3", "source": "random", "random_init": {"hidden_size": 32}}


def _cfg(tmp_path, **kw):
    base = dict(
        env="alfworld",
        episodes=3,
        data_dir=ALFWORLD_DIR,
        model=dict(TINY),
        max_steps=8,
        progress=False,
        n_boot=100,
        results_dir=str(tmp_path),
        temperature=0.0,
        max_new_tokens=64,
    )
    return AgentEvalConfig(**{**base, **kw})


def _script(episodes, fail=()):
    """task text -> replies: each game's walkthrough, except the games at positions ``fail`` (unreadable replies)."""
    script = {}
    for i, env in enumerate(
        make_envs("alfworld", "valid_unseen", episodes, ALFWORLD_DIR, 0, 50, expert=True)
    ):
        env.reset()
        script[env.task] = ["hmm, not sure"] * 60 if i in fail else env.walkthrough
        env.close()
    return script


def _loader(scripted_agent, tokenizer, script, calls):
    def load(cfg):
        calls.append(cfg)
        return SimpleNamespace(
            sampler=scripted_agent(tokenizer, script),
            tokenizer=tokenizer,
            engine="scripted",
            device="cpu",
            context=None,
            load_seconds=0.0,
            enable_thinking=None,
        )

    return load


def test_run_plays_stores_scores_and_resumes(tmp_path, alfworld_engine, scripted_agent, byte_tokenizer):
    script = _script(4, fail=(2,))
    calls = []
    cfg = _cfg(tmp_path)
    out = run(cfg, load_policy=_loader(scripted_agent, byte_tokenizer, script, calls))
    assert len(calls) == 1 and out["timings"]["new_episodes"] == 3
    rows = {(r.benchmark, r.metric): r.value for r in out["rows"]}
    # episodes 0-2 are a pick, a look and a clean game (round-robin over types); the clean one was scripted to fail
    assert rows == {
        ("alfworld", "success"): pytest.approx(2 / 3),
        ("alfworld_pick", "success"): 1.0,
        ("alfworld_look", "success"): 1.0,
        ("alfworld_clean", "success"): 0.0,
    }
    assert out["metrics_path"] == tmp_path / "metrics" / "base-tiny-qwen3" / "alfworld.csv"
    table = read_metrics(out["metrics_path"])
    assert set(table["benchmark"]) == {"alfworld", "alfworld_pick", "alfworld_look", "alfworld_clean"}
    records = [json.loads(ln) for ln in out["samples_path"].read_text().splitlines()]
    by_type = {r["task_type"]: r for r in records}
    failed = by_type["pick_clean_then_place_in_recep"]
    assert failed["success"] == 0.0 and failed["invalid_actions"] == 8 and failed["turns"] == 8
    assert failed["finish_reason"] == "done"  # the environment's own step limit ended it
    won = by_type["pick_and_place_simple"]
    assert won["success"] == 1.0 and won["invalid_actions"] == 0 and won["finish_reason"] == "done"
    assert won["messages"][0]["role"] == "system" and won["messages"][-1]["content"].startswith(
        f"Step {won['turns']}/8"
    )
    assert (
        won["problem_id"].startswith("alfworld/valid_unseen/pick_and_place_simple-")
        and won["sample_index"] == 0
    )
    info = json.loads(out["info_path"].read_text())
    assert info["data_source"] == "data_dir" and info["timings"]["finish_reasons"] == {"done": 3}

    # a rerun plays nothing (the policy is not even loaded) and gives the same rows
    again = run(cfg, load_policy=lambda c: pytest.fail("nothing should be played"))
    assert again["timings"]["new_episodes"] == 0 and again["rows"] == out["rows"]
    # one more episode: only that one is played
    more = run(_cfg(tmp_path, episodes=4), load_policy=_loader(scripted_agent, byte_tokenizer, script, calls))
    assert more["timings"]["new_episodes"] == 1 and more["timings"]["episodes"] == 4
    # other sampling settings would mix episodes drawn differently: refused
    with pytest.raises(ValueError, match=r"different \['temperature'\]"):
        run(_cfg(tmp_path, temperature=0.7), load_policy=lambda c: pytest.fail("must not play"))


def test_episode_key():
    assert episode_key("alfworld/valid_unseen/g-1/trial_T1#2") == ("alfworld/valid_unseen/g-1/trial_T1", 2)
    assert episode_key("webshop/test/17") == ("webshop/test/17", 0)
    assert episode_key("odd#name") == ("odd#name", 0)


def test_cli_config_composition():
    conf = CLI.compose(["env=alfworld", "model=smollm2-135m", "episodes=2", "max_new_tokens=48"])
    assert conf.model["name"] == "smollm2-135m" and conf.episodes == 2 and conf.max_new_tokens == 48
    assert conf.resolved_split == "valid_unseen" and conf.resolved_max_steps == 50
    assert CLI.compose(["env=webshop", "model=tiny-qwen3"]).resolved_max_steps == 15
    with pytest.raises(ValueError, match="env='sciworld'"):
        CLI.compose(["env=sciworld", "model=tiny-qwen3"])
    with pytest.raises(ValueError, match="task_types has unknown types"):
        CLI.compose(["model=tiny-qwen3", "task_types=[pick]"])


def test_missing_alfworld_data_fails_before_anything_is_written(tmp_path):
    with pytest.raises(FileNotFoundError, match="alfworld-download"):
        run(
            _cfg(tmp_path, data_dir=str(tmp_path / "missing")),
            load_policy=lambda c: pytest.fail("must not play"),
        )
    assert not (tmp_path / "samples").exists()


def test_episodes_of_another_model_are_not_reused(tmp_path, alfworld_engine, scripted_agent, byte_tokenizer):
    """The same model name with other weights (another seed) is another model: refused in one line naming it;
    overwrite=true plays again."""
    script = _script(1)
    calls = []
    load = _loader(scripted_agent, byte_tokenizer, script, calls)
    first = _cfg(tmp_path, episodes=1)
    assert run(first, load_policy=load)["timings"]["new_episodes"] == 1
    other = {**TINY, "seed": 1}
    with pytest.raises(
        ValueError, match=r"holds episodes drawn with different \['model\.seed'\].*overwrite=true"
    ):
        run(_cfg(tmp_path, episodes=1, model=dict(other)), load_policy=lambda c: pytest.fail("must not play"))
    again = run(_cfg(tmp_path, episodes=1, model=dict(other), overwrite=True), load_policy=load)
    assert again["timings"]["new_episodes"] == 1 and len(calls) == 2


def test_second_process_on_the_same_run_and_env_is_refused(tmp_path):
    from resrl.records import FolderLocked, exclusive_lock

    with exclusive_lock(tmp_path / "samples" / "base-tiny-qwen3" / ".alfworld.lock"):
        with pytest.raises(FolderLocked, match=r"run base-tiny-qwen3 \(alfworld\) is in use .*pid"):
            run(_cfg(tmp_path), load_policy=lambda c: pytest.fail("must not play"))


def test_reuse_cache_false_prefills_every_turn_and_plays_the_same_tokens(tmp_path, monkeypatch):
    """``reuse_cache`` reaches ``run_episodes``: with it (the default) the transformers engine keeps each episode's
    key/value cache, without it no cache is made; the stored transcripts are the same token for token."""
    import resrl.rollout.prefix_cache as prefix_cache

    made = []

    class CountingCache(prefix_cache.PrefixCache):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(prefix_cache, "PrefixCache", CountingCache)
    played = {}
    for reuse in (True, False):
        made.clear()
        cfg = _cfg(
            tmp_path / str(reuse),
            model=dict(
                TINY, max_context=8192, random_init={"hidden_size": 32, "max_position_embeddings": 8192}
            ),
            episodes=2,
            max_steps=3,
            max_new_tokens=8,
            temperature=1.0,
        )
        cfg.reuse_cache = reuse
        out = run(cfg)
        played[reuse] = [
            (r["messages"], r["turns"]) for r in map(json.loads, out["samples_path"].read_text().splitlines())
        ]
        assert (len(made) == 1 and made[0].reused_tokens > 0) if reuse else not made
    # every turn played, so the later turns reused the cache
    assert [turns for _, turns in played[True]] == [3, 3]
    assert played[True] == played[False]
