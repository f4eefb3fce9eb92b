import pytest
import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

from resrl.algorithms.hidden import capture_hidden


@pytest.fixture(scope="module")
def tiny_qwen3():
    torch.manual_seed(0)
    cfg = Qwen3Config(
        vocab_size=97,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=64,
    )
    return Qwen3ForCausalLM(cfg).eval()


@pytest.mark.parametrize("layer", [-2, -1, 0, 1, 2, -4])
def test_hook_matches_output_hidden_states(tiny_qwen3, layer):
    ids = torch.randint(0, 97, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[0, :2] = 0
    with torch.no_grad():
        ref = tiny_qwen3(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[layer]
        with capture_hidden(tiny_qwen3, layer) as box:
            tiny_qwen3(input_ids=ids, attention_mask=mask)
    assert box["hidden"].shape == (2, 7, 32)
    assert torch.equal(box["hidden"], ref)


def test_hook_is_removed_after_the_context(tiny_qwen3):
    with capture_hidden(tiny_qwen3, -2) as box:
        pass
    tiny_qwen3(input_ids=torch.randint(0, 97, (1, 3)))
    assert "hidden" not in box


def test_out_of_range_layer_is_rejected(tiny_qwen3):
    with pytest.raises(ValueError, match="out of range"):
        with capture_hidden(tiny_qwen3, 9):
            pass
