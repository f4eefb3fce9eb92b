"""The WebShop adapter against a stand-in with ``WebAgentTextEnv``'s API that replays a fixture of text-mode pages.

The fixture (fixtures/webshop_text_env.json) is CONSTRUCTED from WebShop's code (templates, text observation
format, clickables), not recorded: the real environment cannot run here (no product data or search index). The
stand-in below reproduces only the behaviour the adapter relies on, as read in
web_agent_site/envs/web_agent_text_env.py: ``reset(session=)`` -> ``(obs, None)``, ``instruction_text``,
``get_available_actions()``, ``step(action)`` -> ``(obs, reward, done, None)`` with ``search[...]``/``click[...]``
parsed by ``(.+)\\[(.+)\\]``, the argument lower-cased, and an action the page does not offer doing nothing.
"""

import json
import re
from pathlib import Path

import pytest

from evaluators.agents.data import check_webshop_dir
from evaluators.agents.prompting import webshop_prompt
from evaluators.agents.registry import make_envs
from evaluators.agents.webshop import (
    SEARCH_PLACEHOLDER,
    WebShopEnv,
    admissible_actions,
    check_action,
    webshop_split_sessions,
)

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "webshop_text_env.json").read_text())


class ReplayTextEnv:
    """A WebAgentTextEnv stand-in driven by the fixture's pages and transitions (see the module docstring)."""

    def __init__(self, fixture):
        self.fx = fixture
        self.page = None
        self.options = {}
        self.asin = None
        self.instruction_text = None
        self.steps_received = []

    def reset(self, session=None, instruction_text=None):
        self.page, self.options, self.asin = self.fx["start_page"], {}, None
        self.instruction_text = self.fx["goals"][str(session)]
        return self.observation, None

    @property
    def observation(self):
        return self.fx["pages"][self.page]["observation"]

    def get_available_actions(self):
        return json.loads(json.dumps(self.fx["pages"][self.page]["available"]))

    def _reward(self):
        for r in self.fx["rewards"]:
            if r["asin"] == self.asin and (r["options"] is None or r["options"] == self.options):
                return r["reward"]
        return 0.0

    def step(self, action):
        self.steps_received.append(action)
        m = re.match(r"(.+)\[(.+)\]", action)
        name, arg = (m.group(1), m.group(2).lower()) if m else (action, None)
        available = self.get_available_actions()
        if name == "search" and arg and available["has_search_bar"]:
            self.page = "results"
        elif name == "click" and arg in available["clickables"] and arg != "search":
            page = self.fx["pages"][self.page]
            if arg == "buy now":
                reward = self._reward()
                done_obs = self.fx["done_page"].format(
                    asin=self.asin, options=json.dumps(self.options), reward=reward
                )
                return done_obs, reward, True, None
            option = next((n for n, vals in page.get("options", {}).items() if arg in vals), None)
            if option is not None:
                self.options[option] = arg
            else:
                self.page = self.fx["transitions"][self.page][arg]
                self.asin = self.fx["pages"][self.page].get("asin", self.asin)
                if "asin" in self.fx["pages"][self.page]:
                    self.options = {}
        return self.observation, 0.0, False, None


def _env(max_steps=15):
    stand_in = ReplayTextEnv(FIXTURE)
    return WebShopEnv(0, make_env=lambda: stand_in, prompt=webshop_prompt(), max_steps=max_steps), stand_in


def test_fixture_is_labelled_constructed():
    assert FIXTURE["provenance"].startswith("CONSTRUCTED from the WebShop code, NOT recorded")


def test_buying_the_right_product_scores_one():
    env, stand_in = _env()
    opening = env.reset()
    user = opening[1]["content"]
    assert user.startswith("Your task is to: i need a long clip-in hair extension")
    assert "Your current observation is: WebShop [SEP] Instruction: [SEP] i need a long clip-in" in user
    assert f"[{SEARCH_PLACEHOLDER!r}]" in user  # only the search bar on the first page
    steps = [
        env.step(r)
        for r in (
            "<think>search first</think><action>search[clip in hair extension natural]</action>",
            "<action>click[B0FIXTURE1]</action>",  # WebShop lower-cases the argument; so does the validity check
            "<action>click[20 inch]</action>",
            "<action>click[natural black]</action>",
            "<action>Click[Buy Now]</action>",
        )
    ]
    assert "'click[b0fixture1]'" in steps[0].messages[0]["content"]
    assert (
        "'click[buy now]'" in steps[1].messages[0]["content"]
        and "'click[20 inch]'" in steps[1].messages[0]["content"]
    )
    assert [s.done for s in steps] == [False] * 4 + [True]
    assert [s.invalid for s in steps] == [False] * 5
    assert steps[-1].reward == 1.0
    assert stand_in.steps_received[-1] == "click[Buy Now]"
    assert env.score() == {"reward": 1.0, "score": 1.0, "success": 1.0, "steps": 5.0, "invalid_actions": 0.0}


def test_partial_match_scores_reward_without_success():
    env, _ = _env()
    env.reset()
    for r in (
        "<action>search[hair]</action>",
        "<action>click[b0fixture2]</action>",
        "<action>click[buy now]</action>",
    ):
        step = env.step(r)
    assert step.done and step.reward == 0.2
    assert env.score()["score"] == 0.2 and env.score()["success"] == 0.0 and env.score()["reward"] == 0.2


def test_invalid_actions_are_counted_and_the_step_limit_ends_the_episode():
    env, stand_in = _env(max_steps=4)
    env.reset()
    s1 = env.step("I would like to buy hair extensions")  # no action: not sent
    s2 = env.step("<action>click[b0fixture1]</action>")  # not on the search page: sent, WebShop does nothing
    s3 = env.step(
        f"<action>{SEARCH_PLACEHOLDER}</action>"
    )  # the placeholder is not a query (WebShop searches it)
    s4 = env.step("<action>click[b0fixture1]</action>")  # now on the results page: valid
    assert [s.invalid for s in (s1, s2, s3, s4)] == [True, True, True, False]
    assert [s.done for s in (s1, s2, s3, s4)] == [False, False, False, True]
    assert stand_in.steps_received[0] == "click[b0fixture1]"  # the unreadable reply never reached the env
    assert "Invalid action: no action found" in s1.messages[0]["content"]
    assert "WebShop [SEP] Instruction:" in s2.messages[0]["content"]  # still the search page
    assert env.score() == {"reward": 0.0, "score": 0.0, "success": 0.0, "steps": 4.0, "invalid_actions": 3.0}


def test_admissible_actions_and_check_action():
    avail = {"has_search_bar": False, "clickables": ["back to search", "< prev", "buy now", "20 inch"]}
    assert admissible_actions(avail) == [
        "click[back to search]",
        "click[< prev]",
        "click[buy now]",
        "click[20 inch]",
    ]
    assert admissible_actions({"has_search_bar": True, "clickables": ["search"]}) == [SEARCH_PLACEHOLDER]
    assert check_action("click[Buy Now]", avail) == ("click[Buy Now]", True)
    assert check_action("CLICK[20 inch]", avail) == ("click[20 inch]", True)
    assert check_action("click[search]", {"has_search_bar": True, "clickables": ["search"]})[1] is False
    assert check_action("search[shoes]", avail) == ("search[shoes]", False)  # no search bar on this page
    assert check_action("buy it", avail) == ("buy it", False)


def test_webshop_splits():
    assert webshop_split_sessions("test") == range(0, 500)
    assert webshop_split_sessions("eval") == range(500, 1500)
    assert webshop_split_sessions("train", num_goals=12087) == range(1500, 12087)
    with pytest.raises(ValueError, match="unknown WebShop split"):
        webshop_split_sessions("dev")


def test_missing_webshop_checkout_names_the_setup_steps(tmp_path):
    with pytest.raises(
        FileNotFoundError,
        match=r"(?s)WebShop folder not found: .*git clone .*princeton-nlp/WebShop.*setup\.sh",
    ):
        check_webshop_dir(tmp_path / "WebShop")
    (tmp_path / "WebShop" / "web_agent_site" / "envs").mkdir(parents=True)
    (tmp_path / "WebShop" / "web_agent_site" / "envs" / "web_agent_text_env.py").write_text("")
    with pytest.raises(
        FileNotFoundError, match=r"lacks \['data/items_shuffle_1000.json or data/items_shuffle.json'"
    ):
        check_webshop_dir(tmp_path / "WebShop")
    with pytest.raises(FileNotFoundError, match="needs data_dir"):
        make_envs("webshop", "test", 2, None, 0, 15)
