"""Math prompts: one user turn with the problem inside an instruction, rendered with the model's chat template
(Qwen3 in no-think mode). Default: DAPO-Math's "Answer:" wrapper, as the authors' release trains and evaluates
(``experiments/benchmark/prompt/dapo.yaml``); ``boxed``: "reason step by step ... \\boxed{}"."""

from __future__ import annotations

from dataclasses import dataclass, field

from resrl.tasks.dapo_math import DAPO_PROMPT_PREFIX, DAPO_PROMPT_SUFFIX

#: DAPO-Math-17k's instruction around each problem (verbatim; the release's training and evaluation prompt): the
#: same text the dapo_math training task uses.
DAPO_TEMPLATE = DAPO_PROMPT_PREFIX + "{problem}" + DAPO_PROMPT_SUFFIX
#: The boxed-answer instruction (prompt=boxed; also the dapo_math task's ``prompt: boxed``).
DEFAULT_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


@dataclass
class PromptConfig:
    """How a problem becomes a chat prompt (Hydra group ``experiments/benchmark/prompt/``).

    ``enable_thinking``: passed to chat templates that read it (Qwen3: False = no-think, the paper's math
    setting); ``None`` leaves the model config's ``chat_template_kwargs`` in charge; dropped for templates
    without the switch (SmolLM2).
    """

    name: str = "dapo"
    instruction: str = ""
    system: str | None = None
    enable_thinking: bool | None = False
    template: str = DAPO_TEMPLATE
    demos: list[list[str]] = field(default_factory=list)  # few-shot [question, assistant answer] turns

    def __post_init__(self) -> None:
        if "{problem}" not in self.template:
            raise ValueError(f"prompt.template must contain '{{problem}}', got {self.template!r}")
        for i, demo in enumerate(self.demos):
            if len(demo) != 2:
                raise ValueError(f"prompt.demos[{i}] must be [question, answer], got {demo!r}")


def build_messages(problem: str, cfg: PromptConfig | None = None) -> list[dict[str, str]]:
    """Chat messages for one problem: optional system turn, then the user turn."""
    cfg = cfg or PromptConfig()
    messages = [{"role": "system", "content": cfg.system}] if cfg.system else []
    for question, answer in cfg.demos:
        demo_user = cfg.template.format(problem=question.strip(), instruction=cfg.instruction).strip()
        messages += [{"role": "user", "content": demo_user}, {"role": "assistant", "content": answer}]
    user = cfg.template.format(problem=problem.strip(), instruction=cfg.instruction).strip()
    messages.append({"role": "user", "content": user})
    return messages


def render_prompt(
    tokenizer, problem: str, cfg: PromptConfig | None = None, template_kwargs: dict | None = None
) -> str:
    """The prompt string: ``build_messages`` through the tokenizer's chat template (generation prompt added).

    ``template_kwargs`` are the model config's defaults (e.g. ``{"enable_thinking": False}`` for Qwen3);
    ``cfg.enable_thinking`` overrides them when not ``None``.
    """
    from resrl.models import format_chat

    cfg = cfg or PromptConfig()
    kwargs = dict(template_kwargs or {})
    if cfg.enable_thinking is not None:
        kwargs["enable_thinking"] = cfg.enable_thinking
    return format_chat(tokenizer, build_messages(problem, cfg), **kwargs)
