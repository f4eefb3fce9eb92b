"""What the model is shown: BFCL's default system prompt (prompting mode), tool schemas (FC mode), and the
user message of a miss_func turn that adds the held-out functions.

The prompt texts are read from the installed package (``bfcl_eval.constants.default_prompts``), BFCL's
default format ``ret_fmt=python&tool_call_tag=False&func_doc_fmt=json&prompt_fmt=plaintext&style=classic``:
the function docs as indented JSON in the system prompt, calls answered as ``[func(a=1), g(b='x')]``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

#: Call formats: ``prompt`` = BFCL prompting (docs in the system prompt, Python-list calls), for any chat
#: model; ``fc`` = function calling through the chat template's ``tools`` (Qwen3/Hermes ``<tool_call>``).
CALL_FORMATS = ("prompt", "fc")


def _prompts():
    try:
        from bfcl_eval.constants import default_prompts
    except ImportError as e:
        from evaluators.bfcl.data import INSTALL_HINT

        raise ImportError(f"BFCL prompts need the bfcl-eval package ({INSTALL_HINT}): {e}") from None
    return default_prompts


def max_step_limit() -> int:
    """BFCL's per-turn cap on executed steps (``MAXIMUM_STEP_LIMIT``, 20 in 2026.3.23)."""
    return int(_prompts().MAXIMUM_STEP_LIMIT)


def system_prompt(functions: list[dict[str, Any]]) -> str:
    """BFCL's default prompting-mode system prompt listing ``functions`` (classic style, plaintext, JSON docs,
    Python-list return format, no tool-call tag)."""
    p = _prompts()
    style = p.PROMPT_STYLE_TEMPLATES["classic"]
    tool_call_format = style["tool_call_no_tag"].format(
        output_format=p.OUTPUT_FORMAT_MAPPING["python"], param_types=p.PARAM_TYPE_MAPPING["python"]
    )
    return p.PROMPT_TEMPLATE_MAPPING["plaintext"].format(
        persona=style["persona"],
        task=style["task"],
        tool_call_format=tool_call_format,
        multiturn_behavior=style["multiturn_behavior"],
        available_tools=style["available_tools"].format(
            format="json", functions=json.dumps(functions, indent=4)
        ),
    )


def opening_messages(
    first_turn: list[dict[str, Any]], functions: list[dict[str, Any]], call_format: str
) -> list[dict[str, Any]]:
    """The messages of turn 0: in ``prompt`` mode BFCL's system prompt first (merged in front of the entry's own
    system message when it has one); in ``fc`` mode the entry's messages as they are (the tools go to the chat
    template)."""
    msgs = [dict(m) for m in first_turn]
    if call_format == "fc":
        return msgs
    sp = system_prompt(functions)
    if msgs and msgs[0].get("role") == "system":
        msgs[0]["content"] = sp + "\n\n" + msgs[0]["content"]
        return msgs
    return [{"role": "system", "content": sp}, *msgs]


def added_functions_message(functions: list[dict[str, Any]]) -> dict[str, str]:
    """The user message of a miss_func turn that makes the held-out ``functions`` available: their docs and
    "I have updated some more functions you can choose from. What about now?" (BFCL's
    ``DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_PROMPTING``).

    Used in both call formats. BFCL's FC loop instead adds the docs to the tools and sends the message without
    them; here the token sequence is built incrementally (``resrl.rollout.multi_turn``), so a system prompt
    rendered from the tools cannot change mid-episode and the docs travel in the message.
    """
    return {
        "role": "user",
        "content": _prompts().DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_PROMPTING.format(
            functions=functions
        ),
    }


def _json_schema(node: Any) -> Any:
    """BFCL parameter types (``dict``, ``float``, ``tuple``, ...) -> JSON-schema types, recursively."""
    from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI

    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "type" and isinstance(v, str):
            out[k] = GORILLA_TO_OPENAPI.get(v, v)
        elif k == "properties" and isinstance(v, dict):
            out[k] = {name: _json_schema(spec) for name, spec in v.items()}
        else:
            out[k] = _json_schema(v)
    return out


def tool_schemas(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style tool specs ``{"type": "function", "function": {name, description, parameters}}`` for a
    chat template's ``tools`` argument."""
    tools = []
    for doc in functions:
        params = _json_schema(copy.deepcopy(doc.get("parameters", {"type": "dict", "properties": {}})))
        params["type"] = "object"
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": doc["name"],
                    "description": doc.get("description", ""),
                    "parameters": params,
                },
            }
        )
    return tools
