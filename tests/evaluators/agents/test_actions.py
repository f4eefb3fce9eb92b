"""The action parser: tags, lenient fallbacks, admissible matching, unusable replies."""

import pytest

from evaluators.agents.actions import EMPTY_ACTION, NO_ACTION, clean_action, parse_action

ADMISSIBLE = ["go to cabinet 1", "go to countertop 1", "take apple 1 from countertop 1", "look"]


@pytest.mark.parametrize(
    "reply, action",
    [
        (
            "<think>the apple is on the countertop</think><action>go to countertop 1</action>",
            "go to countertop 1",
        ),
        ("<action>go to cabinet 1</action> or maybe <action>look</action>", "look"),  # the last tag wins
        (
            "<think>maybe <action>look</action>?</think>\n<action>go to cabinet 1</action>",
            "go to cabinet 1",
        ),  # not in think
        ("<think>unclosed reasoning <action>go to cabinet 1</action>", "go to cabinet 1"),
        (
            "<ACTION> Go To Countertop 1 </ACTION>",
            "go to countertop 1",
        ),  # case and spaces -> canonical spelling
        ("<action>'take apple 1 from countertop 1'.</action>", "take apple 1 from countertop 1"),
        (
            "<action>go to  cabinet\t1\nand then look</action>",
            "go to cabinet 1",
        ),  # first line, spaces collapsed
        ("I will look around.\n<action>look", "look"),  # closing tag cut off by the token budget
        ("Thought: I need the apple.\nAction: go to countertop 1", "go to countertop 1"),  # ReAct format
        ("go to cabinet 1", "go to cabinet 1"),  # a bare admissible action
    ],
)
def test_parse_action_finds_the_action(reply, action):
    parsed = parse_action(reply, ADMISSIBLE)
    assert (parsed.action, parsed.admissible, parsed.error) == (action, True, None)


def test_parse_action_not_admissible_is_returned_flagged():
    parsed = parse_action("<action>dance with the apple</action>", ADMISSIBLE)
    assert (parsed.action, parsed.admissible) == ("dance with the apple", False)


@pytest.mark.parametrize(
    "reply, error",
    [
        ("I am not sure what to do.", NO_ACTION),
        ("", NO_ACTION),
        ("go to the kitchen", NO_ACTION),  # bare text that is not an admissible action
        ("<think>go to cabinet 1</think>", NO_ACTION),  # an action only inside the reasoning does not count
        ("<action>  </action>", EMPTY_ACTION),
    ],
)
def test_parse_action_unusable_reply(reply, error):
    parsed = parse_action(reply, ADMISSIBLE)
    assert (parsed.action, parsed.error, parsed.admissible) == (None, error, None)


def test_parse_action_without_admissible_list_keeps_the_text():
    assert parse_action("<action>click[Buy Now]</action>").action == "click[Buy Now]"
    assert parse_action("<action>search[red shoes size 9]</action>").admissible is None


def test_clean_action():
    assert clean_action('  "`look`"  ') == "look"
    assert clean_action("go north.") == "go north"
    assert clean_action("wait...") == "wait..."
    assert clean_action("\n\n  open   box 2 \n close it") == "open box 2"
