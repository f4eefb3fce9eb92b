"""Stdout comparison and the value codec that carries call outputs out of the sandbox."""

from __future__ import annotations

import json
import math

import pytest

from evaluators.code import _sandbox_child as codec
from evaluators.code.compare import stdout_matches, tokens_match


@pytest.mark.parametrize(
    ("actual", "expected", "ok"),
    [
        ("3\n", "3", True),  # trailing newline
        ("1 2  \n3\n\n\n", "1 2\n3", True),  # trailing spaces and blank lines
        ("1.0\n", "1", True),  # equal as decimals
        ("-0\n", "0\n", True),
        ("1 2 3\n", "1 2\n3\n", False),  # lines mode keeps the line structure
        ("4\n", "3\n", False),
        ("yes\n", "YES\n", False),  # case matters (the checker of a problem may differ; we do not guess)
        ("", "0\n", False),
    ],
)
def test_lines_mode(actual, expected, ok):
    assert stdout_matches(actual, expected, mode="lines") is ok


def test_tokens_mode_ignores_layout_only():
    assert stdout_matches("1 2 3\n", "1\n2\n3", mode="tokens")
    assert not stdout_matches("1 2\n", "1 2 3", mode="tokens")


def test_float_tolerance_is_absolute_or_relative():
    # |a - e| <= tol * max(1, |e|): 1e-6 absolute near 0.5, relative around 1e6.
    assert tokens_match("0.5000005", "0.5", 1e-6)
    assert not tokens_match("0.500002", "0.5", 1e-6)
    assert tokens_match("1000000.5", "1000000", 1e-6)
    assert not tokens_match("1000002", "1000000", 1e-6)
    assert not tokens_match("0.5000005", "0.5", None)  # no tolerance unless the problem states one
    assert not tokens_match("nan", "0.5", 1e-6)


def test_compare_rejects_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        stdout_matches("1", "1", mode="exact")


def _roundtrip(value):
    return codec.decode_value(json.loads(codec.encode_value(value)))


def test_codec_roundtrip_keeps_types():
    value = [
        1,
        True,
        None,
        "é\u2028",
        2.5,
        (1, (2,)),
        {3},
        frozenset({4}),
        {"a": [1], 5: (6,)},
        b"\x00\xff",
        1 + 2j,
    ]
    out = _roundtrip(value)
    assert out == value
    assert (
        type(out[1]) is bool and type(out[5]) is tuple and type(out[6]) is set and type(out[7]) is frozenset
    )


def test_codec_special_numbers_and_big_ints():
    out = _roundtrip([math.inf, -math.inf, 10**700, -(10**700), 0.1])
    assert out[:2] == [math.inf, -math.inf] and out[2] == 10**700 and out[3] == -(10**700) and out[4] == 0.1
    assert math.isnan(_roundtrip(math.nan))


def test_codec_rejects_objects_and_subclasses():
    class MyList(list):
        pass

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    for bad in (AlwaysEqual(), MyList([1]), [1, AlwaysEqual()], {"k": object()}):
        out = _roundtrip(bad)
        assert isinstance(out, codec.Unsupported)
        assert out != out and out != bad


def test_codec_refuses_cycles_and_deep_nesting():
    cyclic: list = []
    cyclic.append(cyclic)
    deep: list = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    assert isinstance(_roundtrip(cyclic), codec.Unsupported)
    assert isinstance(_roundtrip(deep), codec.Unsupported)


def test_large_values_travel_as_digests():
    small = codec.encode_value("x" * 10)
    assert codec.digest_if_large(small) == small
    big = codec.encode_value("x" * (codec.DIGEST_OVER + 1))
    d1 = codec.decode_value(json.loads(codec.digest_if_large(big)))
    d2 = codec.decode_value(
        json.loads(codec.digest_if_large(codec.encode_value("x" * (codec.DIGEST_OVER + 1))))
    )
    d3 = codec.decode_value(
        json.loads(codec.digest_if_large(codec.encode_value("y" * (codec.DIGEST_OVER + 1))))
    )
    assert isinstance(d1, codec.Digest) and d1 == d2 and d1 != d3
