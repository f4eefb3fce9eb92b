"""Code prompts: one user turn asking for a Python solution in a fenced block, rendered with the model's chat
template. Qwen3 runs in think mode for code (paper §4: "For code ... train in think mode"), so
``enable_thinking`` defaults to True; templates without the switch (SmolLM2) ignore it. The reasoning is
stripped before the code block is extracted (``evaluators.code.sanitize``)."""

from __future__ import annotations

from dataclasses import dataclass

HUMANEVAL_TEMPLATE = (
    "Complete the following Python function. Reply with the complete function, including the imports it "
    "needs, in a single ```python code block.\n\n```python\n{prompt}```"
)
STDIN_TEMPLATE = (
    "Solve the following programming problem in Python 3. Your program must read the input from standard input "
    "and print the answer to standard output.\n\n{statement}\n\nReply with the complete program in a single "
    "```python code block."
)
FUNCTIONAL_TEMPLATE = (
    "Solve the following programming problem in Python 3 by completing the starter code.\n\n{statement}\n\n"
    "Starter code:\n```python\n{starter}\n```\n\nReply with the complete solution in a single ```python code block."
)


@dataclass
class CodePromptConfig:
    """``enable_thinking``: Qwen3's think switch (True = the paper's code setting; None = the model config's
    default). ``system``: an optional system turn."""

    enable_thinking: bool | None = True
    system: str | None = None


def build_messages(user: str, cfg: CodePromptConfig | None = None) -> list[dict[str, str]]:
    cfg = cfg or CodePromptConfig()
    messages = [{"role": "system", "content": cfg.system}] if cfg.system else []
    messages.append({"role": "user", "content": user.strip()})
    return messages


def humaneval_user(prompt: str) -> str:
    return HUMANEVAL_TEMPLATE.format(prompt=prompt)


def stdin_user(statement: str) -> str:
    return STDIN_TEMPLATE.format(statement=statement.strip())


def functional_user(statement: str, starter: str) -> str:
    return FUNCTIONAL_TEMPLATE.format(statement=statement.strip(), starter=starter.rstrip())


def render(
    tokenizer, user: str, cfg: CodePromptConfig | None = None, template_kwargs: dict | None = None
) -> str:
    """The prompt string through the chat template; ``cfg.enable_thinking`` overrides the model's default."""
    from resrl.models import format_chat

    cfg = cfg or CodePromptConfig()
    kwargs = dict(template_kwargs or {})
    if cfg.enable_thinking is not None:
        kwargs["enable_thinking"] = cfg.enable_thinking
    return format_chat(tokenizer, build_messages(user, cfg), **kwargs)
