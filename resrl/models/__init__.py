"""Policy models by name: ``load_policy("smollm2-135m")``, configs in ``experiments/model/*.yaml``."""

from resrl.models.availability import check_model_available
from resrl.models.chat import format_chat, supports_thinking_switch
from resrl.models.loader import load_policy, prepare_tokenizer, resolve_spec
from resrl.models.spec import ModelSpec, available_models, get_model_spec

__all__ = [
    "check_model_available",
    "ModelSpec",
    "available_models",
    "format_chat",
    "get_model_spec",
    "load_policy",
    "prepare_tokenizer",
    "resolve_spec",
    "supports_thinking_switch",
]
