"""End-of-response rules on hand-made token sequences (token 9 is a special EOS that decodes to "")."""

from __future__ import annotations

import pytest

from resrl.rollout.postprocess import truncate_response

PIECES = {1: "ab", 2: "cde", 3: "f", 4: "g", 5: "h", 9: ""}


def decode(ids):
    return "".join(PIECES[i] for i in ids)


LPS = [-0.1, -0.2, -0.3, -0.4, -0.5]


def test_eos_is_kept_and_the_rest_dropped():
    t = truncate_response([1, 2, 9, 3, 4], LPS, {9}, (), decode)
    assert (t.ids, t.logprobs, t.text, t.finish_reason) == ([1, 2, 9], [-0.1, -0.2, -0.3], "abcde", "stop")


def test_no_eos_no_stop_is_length():
    t = truncate_response([1, 3, 4], LPS[:3], {9}, (), decode)
    assert (t.ids, t.text, t.finish_reason) == ([1, 3, 4], "abfg", "length")


def test_stop_string_inside_a_token_cuts_text_after_the_stop_string():
    # "ab" + "cde": "bc" is completed by token 2; the text ends right after "bc".
    t = truncate_response([1, 2, 3, 4], LPS[:4], {9}, ("bc",), decode)
    assert (t.ids, t.logprobs, t.text, t.finish_reason) == ([1, 2], [-0.1, -0.2], "abc", "stop")


def test_earliest_stop_string_wins():
    # text "abcdefg": "fg" completes at token 4, "def" at token 3 -> cut after token 3, at "def".
    t = truncate_response([1, 2, 3, 4], LPS[:4], {9}, ("fg", "def"), decode)
    assert (t.ids, t.text) == ([1, 2, 3], "abcdef")


def test_stop_string_after_eos_is_ignored():
    t = truncate_response([1, 9, 3, 4], LPS[:4], {9}, ("fg",), decode)
    assert (t.ids, t.text, t.finish_reason) == ([1, 9], "ab", "stop")


def test_stop_string_at_the_length_limit_is_a_stop():
    t = truncate_response([1, 3, 4], LPS[:3], {9}, ("g",), decode)
    assert (t.ids, t.text, t.finish_reason) == ([1, 3, 4], "abfg", "stop")


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="3 token ids but 2 log-probs"):
        truncate_response([1, 2, 3], [-0.1, -0.2], {9}, (), decode)
