"""One policy loader for every evaluator: engine and device resolution, the model, its tokenizer, its context.

``load_sampler(spec, engine=..., device=..., batch_size=...)`` returns a :class:`LoadedPolicy`:

- ``engine="hf"``: the model through ``resrl.models.load_policy`` on ``device`` and ``HFSampler``.
- ``engine="vllm"``: ``vllm.LLM`` on the Hub id or checkpoint folder, given as paths (``vllm.LLM`` takes a
  tokenizer *name or path*, never an object); the Hugging Face tokenizer loaded here renders prompts and
  tokenises them for the engine.

``max_context`` is the model's own context length (``max_position_embeddings`` of its config) on both engines.
- ``engine="auto"``: vLLM when the device is CUDA and vllm is installed, else hf. ``device="auto"``: CUDA when
  available.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ENGINES = ("auto", "hf", "vllm")
DEVICES = ("auto", "cpu", "cuda", "cuda:<index>")
VLLM_HINT = (
    "pip install 'resrl[gpu]' on a machine with a CUDA GPU, or the cluster environment (docs/cluster.md)"
)


@dataclass
class LoadedPolicy:
    sampler: Any  # resrl.rollout Sampler (generate / generate_from_ids)
    tokenizer: Any  # Hugging Face tokenizer (chat template, prompt lengths)
    engine: str  # "hf" or "vllm"
    device: str
    max_context: int | None  # prompts of at least this many tokens are not sent to the engine
    load_seconds: float


def resolve_engine(engine: str, device: str) -> tuple[str, str]:
    """(engine, device) with ``auto`` resolved (see the module docstring)."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; valid: {', '.join(ENGINES)}")
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    if engine == "auto":
        engine = "vllm" if device.startswith("cuda") and importlib.util.find_spec("vllm") else "hf"
    return engine, device


def check_engine_device(engine: str, device: str) -> tuple[str, str]:
    """``resolve_engine``, refusing at once (one line naming the field and what to use instead) a CUDA device that
    torch does not see and a vLLM engine that is not installed, before anything is loaded."""
    import torch

    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; valid: {', '.join(ENGINES)}")
    if device != "auto" and device != "cpu" and not device.startswith("cuda") and device != "mps":
        raise ValueError(f"device={device!r}; valid: {', '.join(DEVICES)}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device} but torch sees no CUDA device; use device=cpu (or auto)")
    engine, device = resolve_engine(engine, device)
    if engine == "vllm" and importlib.util.find_spec("vllm") is None:
        raise ValueError(
            f"engine=vllm but the vllm package is not installed ({VLLM_HINT}); use engine=hf (or engine=auto)"
        )
    return engine, device


def require_hub_model(spec: Any) -> None:
    """Fail in seconds, naming the model, when a Hub model is not cached and the Hub is unreachable
    (``resrl.models.check_model_available``, with this CLI's way to pass a local folder)."""
    from resrl.models import check_model_available

    check_model_available(
        spec, field="model", local_hint="pass checkpoint=<a local save_pretrained folder> instead"
    )


def load_sampler(
    spec: Any,
    engine: str = "auto",
    device: str = "auto",
    batch_size: int = 8,
    vllm_kwargs: dict[str, Any] | None = None,
) -> LoadedPolicy:
    """Load ``spec`` (a ``resrl.models.ModelSpec``) for sampling; see the module docstring."""
    from resrl.rollout import make_sampler

    engine, device = resolve_engine(engine, device)
    require_hub_model(spec)  # fails in seconds without network, naming the model
    start = time.monotonic()
    if engine == "vllm":
        from transformers import AutoTokenizer

        if spec.source != "hub":
            raise ValueError(
                f"engine=vllm needs a Hub id or checkpoint folder; model {spec.name!r} has source "
                f"{spec.source!r} (use engine=hf)"
            )
        tokenizer = AutoTokenizer.from_pretrained(spec.hub_id, revision=spec.revision)
        from transformers import AutoConfig

        from evaluators.common.context import model_context

        kwargs = dict(vllm_kwargs or {})
        if spec.revision is not None:
            kwargs.setdefault("revision", spec.revision)
            kwargs.setdefault("tokenizer_revision", spec.revision)
        max_context = model_context(AutoConfig.from_pretrained(spec.hub_id, revision=spec.revision))
        sampler = make_sampler(
            "vllm", str(spec.hub_id), str(spec.hub_id), prompt_tokenizer=tokenizer, **kwargs
        )
    else:
        from evaluators.common.context import model_context
        from resrl.models import load_policy

        model, tokenizer = load_policy(spec, device)
        max_context = model_context(model)
        sampler = make_sampler("hf", model, tokenizer, batch_size=batch_size)
    seconds = time.monotonic() - start
    log.info("loaded %s (%s engine on %s) in %.1f s", spec.name, engine, device, seconds)
    return LoadedPolicy(sampler, tokenizer, engine, device, max_context, seconds)


class LazyPolicy:
    """The policy of a single-turn evaluator, loaded on first use (a fully resumed run never loads the model).

    Subclasses give :meth:`render` (a problem -> the prompt string, with ``self.tokenizer``). ``cfg`` must carry
    ``engine``, ``device``, ``batch_size``, ``temperature``, ``top_p``, ``max_new_tokens`` and ``prompt``; prompts at
    least as long as the model's context get empty answers (``prompt_too_long``), counted in ``prompts_too_long``.
    """

    def __init__(self, cfg: Any, spec: Any) -> None:
        self.cfg, self.spec = cfg, spec
        self.engine, self.device = resolve_engine(cfg.engine, cfg.device)
        self._sampler = None
        self.tokenizer = None
        self.load_seconds = 0.0
        self.max_context: int | None = None  # prompts this long or longer are not sampled
        self.prompts_too_long = 0

    def _load(self) -> None:
        loaded = load_sampler(self.spec, self.cfg.engine, self.cfg.device, batch_size=self.cfg.batch_size)
        self._sampler, self.tokenizer, self.max_context = loaded.sampler, loaded.tokenizer, loaded.max_context
        self.engine, self.device, self.load_seconds = loaded.engine, loaded.device, loaded.load_seconds

    def render(self, problem: Any) -> str:
        raise NotImplementedError

    def prompt(self, problem: Any) -> str:
        if self._sampler is None:
            self._load()
        return self.render(problem)

    def generate(self, prompts: list[str], n: int, seed: int):
        from evaluators.common.context import generate_within_context
        from resrl.rollout import SamplingParams

        if self._sampler is None:
            self._load()
        c = self.cfg
        params = SamplingParams(
            n=n, temperature=c.temperature, top_p=c.top_p, max_new_tokens=c.max_new_tokens, seed=seed
        )
        rollouts, too_long = generate_within_context(
            self._sampler, self.tokenizer, prompts, params, self.max_context
        )
        if too_long:
            log.warning(
                "%d prompt(s) of >= %d tokens (the model's context) not sampled: empty answers, graded wrong",
                too_long,
                self.max_context,
            )
        self.prompts_too_long += too_long
        return rollouts
