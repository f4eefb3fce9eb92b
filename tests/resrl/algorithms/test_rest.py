"""ResT's token weights (the release's static regions and schedule) by hand."""

from __future__ import annotations

import pytest
import torch

from resrl.algorithms.rest import ARGS, FORMAT, NAME, THINK, char_regions, region_masks, rest_token_weights

TEXT = '<think>ok</think>\n<tool_call>\n{"name": "f", "parameters": {"a": "}"}}\n</tool_call>'


def test_character_regions():
    bits = char_regions(TEXT)
    at = lambda s: TEXT.index(s)  # noqa: E731
    assert bits[at("<think>")] == FORMAT and bits[at("ok")] == THINK
    assert bits[at('"f"')] == NAME and bits[at('"f"') + 2] == NAME  # the quoted value
    brace = at('{"a"')
    assert all(bits[i] & ARGS for i in range(brace, brace + len('{"a": "}"}')))  # a brace inside a string
    assert bits[at("\n<tool_call>")] == 0 and bits[at('"name"')] == 0  # newline and the key: weight 0


def test_token_masks_or_their_characters():
    spans = [(0, 7), (7, 9), (9, 17), (17, 18)]  # "<think>", "ok", "</think>", "\n"
    assert region_masks(TEXT, spans) == [FORMAT, THINK, FORMAT, 0]
    assert region_masks("<think>", [(5, 8)]) == [FORMAT]  # a token straddling a tag counts


def test_weights_by_hand_at_step_zero_and_late():
    masks = torch.tensor([[FORMAT, THINK, NAME, ARGS, 0, FORMAT | THINK]])
    resp = torch.ones(1, 6, dtype=torch.bool)
    raw = [
        1.0,
        0.6,
        1.2,
        0.6,
        0.0,
        1.0,
    ]  # step 0: think and args at 0.6; a token in two regions takes the max
    mean = sum(raw) / 5
    assert rest_token_weights(masks, resp, 0)[0].tolist() == pytest.approx([v / mean for v in raw])
    late = [1.0, 1.0, 1.2, 1.2, 0.0, 1.0]  # step 300: think capped at 1.0, args at 1.2
    assert rest_token_weights(masks, resp, 300)[0].tolist() == pytest.approx(
        [v / (sum(late) / 5) for v in late]
    )


def test_padding_gets_no_weight_and_a_sequence_without_regions_none():
    masks = torch.tensor([[FORMAT, NAME], [0, 0]])
    resp = torch.tensor([[True, False], [True, True]])
    w = rest_token_weights(masks, resp, 0)
    assert w.tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_method_weights_the_loss_and_needs_its_features():
    from resrl.methods import build
    from resrl.methods.base import PolicyInputs

    method = build("rest")
    lp = torch.zeros(1, 3, requires_grad=True)
    batch = PolicyInputs(
        log_probs=lp,
        old_log_probs=torch.zeros(1, 3),
        response_mask=torch.ones(1, 3, dtype=torch.bool),
        rewards=torch.tensor([1.0]),
        scores=torch.tensor([1.0]),
        group_ids=torch.tensor([0]),
        advantages=torch.tensor([1.0]),
        extras={"rest_regions": torch.tensor([[NAME, 0, FORMAT]]), "step": torch.tensor(0)},
    )
    loss, metrics = method.loss(batch)
    loss.backward()
    # weights 1.2 / 1.1 and 1.0 / 1.1 on tokens 0 and 2, token 1 none; token mean over the two weighted tokens
    assert lp.grad[0].tolist() == pytest.approx([-1.2 / 1.1 / 2, 0.0, -1.0 / 1.1 / 2])
    assert metrics["rest/weighted_token_frac"] == pytest.approx(2 / 3)
    del batch.extras["rest_regions"]
    with pytest.raises(ValueError, match="token regions"):
        method.loss(batch)


def test_token_offsets_cover_the_decoded_text_with_a_real_tokenizer():
    from resrl.methods.rest import token_offsets
    from resrl.models import get_model_spec, load_policy

    _, tok = load_policy(get_model_spec("tiny-qwen3"), "cpu")
    ids = tok(TEXT, add_special_tokens=False)["input_ids"]
    text, spans = token_offsets(tok, ids)
    assert text == TEXT and len(spans) == len(ids)
    assert "".join(text[a:b] for a, b in spans) == TEXT  # consecutive, covering
    assert region_masks(text, spans)[0] & FORMAT  # the first token is part of <think>


def test_linear_offsets_equal_the_prefix_decoding():
    """The run-by-run decoding gives the spans decoding every prefix gives (ASCII and a character split over
    byte-level tokens), and falls back to it for a tokenizer whose pieces do not add up."""
    from resrl.methods.rest import _prefix_offsets, token_offsets
    from resrl.models import get_model_spec, load_policy

    _, tok = load_policy(get_model_spec("tiny-qwen3"), "cpu")
    for text in (TEXT, "<think>café ok é</think>"):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert token_offsets(tok, ids) == _prefix_offsets(tok, ids)

    class Contextual:  # "a" decodes to "A" at the start only: pieces do not add up
        def decode(self, ids, skip_special_tokens=False):
            return "".join(("A" if k == 0 else "a") for k, _ in enumerate(ids))

    assert token_offsets(Contextual(), [1, 1, 1]) == ("Aaa", [(0, 1), (1, 2), (2, 3)])
