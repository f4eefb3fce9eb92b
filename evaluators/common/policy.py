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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENGINES = ("auto", "hf", "vllm")
DEVICES = ("auto", "cpu", "cuda", "cuda:<index>")
VLLM_HINT = (
    "pip install 'resrl[gpu]' on a machine with a CUDA GPU, or the cluster environment (docs/cluster.md)"
)


# ------------------------------------------------------------------------------------------------ which model
def _folder_label(folder: str) -> str:
    """``/x/runs/resrl/final_model`` -> ``resrl-final_model`` (the last two path parts)."""
    return "-".join(s for s in Path(folder).resolve().parts[-2:] if s not in ("/", ""))


def _model_name(model: Any) -> str | None:
    """The name of ``cfg.model``: a model config name (str) or a composed ``experiments/model`` group (mapping)."""
    if isinstance(model, str):
        return model or None
    if isinstance(model, Mapping) and model:
        return str(model.get("name", "model"))
    return None


def model_label(cfg: Any) -> str:
    """The model's label in the metrics table: ``cfg.model_name``, else the checkpoint folder's last two path parts
    (or the model name given as ``checkpoint``), else the model config's name."""
    if cfg.model_name:
        return cfg.model_name
    if cfg.checkpoint:
        return _folder_label(cfg.checkpoint) if Path(cfg.checkpoint).is_dir() else cfg.checkpoint
    return _model_name(cfg.model) or "model"


def checkpoint_spec(folder: str | Path, name: str) -> Any:
    """A ``ModelSpec`` for a ``save_pretrained`` folder; its context is the folder's ``max_position_embeddings``."""
    import json

    from resrl.models import ModelSpec

    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint folder not found: {folder}")
    config = path / "config.json"
    if not config.is_file():
        raise FileNotFoundError(
            f"checkpoint folder {path} has no config.json: expected a save_pretrained folder (model + tokenizer), "
            "or a model name from experiments/model/"
        )
    context = json.loads(config.read_text()).get("max_position_embeddings")
    extra = {"max_context": int(context)} if isinstance(context, int) and context > 0 else {}
    return ModelSpec(name=name, source="hub", hub_id=str(path.resolve()), **extra)


def model_spec(cfg: Any) -> Any:
    """The ``resrl.models.ModelSpec`` an evaluation config names: ``checkpoint`` (a folder, or a model name) wins
    over ``model`` (a name, or the composed ``experiments/model/<name>.yaml``)."""
    from resrl.models import ModelSpec, get_model_spec

    if cfg.checkpoint:
        if Path(cfg.checkpoint).is_dir() or "/" in cfg.checkpoint or cfg.checkpoint.startswith((".", "~")):
            return checkpoint_spec(Path(cfg.checkpoint).expanduser(), model_label(cfg))
        return get_model_spec(cfg.checkpoint)
    if isinstance(cfg.model, str):
        return get_model_spec(cfg.model)
    return ModelSpec.from_dict(dict(cfg.model))


# ------------------------------------------------------------------------------------------------ loading
@dataclass
class LoadedPolicy:
    sampler: Any  # resrl.rollout Sampler (generate / generate_from_ids)
    tokenizer: Any  # Hugging Face tokenizer (chat template, prompt lengths)
    engine: str  # "hf" or "vllm"
    device: str
    max_context: int | None  # prompts of at least this many tokens are not sent to the engine
    load_seconds: float

    def context_budget(self, spec: Any) -> int | None:
        """Tokens one prompt plus its answers may take: the model's own context, capped by the model config's
        ``max_context``."""
        known = [c for c in (self.max_context, getattr(spec, "max_context", None)) if c]
        return min(known) if known else None


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


class EpisodePolicy:
    """The policy of a multi-turn evaluator (agents, BFCL): sampler, tokenizer, the token budget of one episode
    (``context``: the model's own context capped by the model config's ``max_context``) and Qwen3's think switch,
    loaded by :meth:`load` on first use (a fully resumed run never loads the model)."""

    def __init__(self, cfg: Any, spec: Any = None) -> None:
        self.cfg = cfg
        self.spec = spec if spec is not None else model_spec(cfg)
        self.sampler: Any = None
        self.tokenizer: Any = None
        self.context: int | None = None
        self.engine = self.device = ""
        self.load_seconds = 0.0

    def load(self) -> EpisodePolicy:
        if self.sampler is None:
            loaded = load_sampler(self.spec, self.cfg.engine, self.cfg.device, batch_size=self.cfg.batch_size)
            self.sampler, self.tokenizer = loaded.sampler, loaded.tokenizer
            self.context = loaded.context_budget(self.spec)
            self.engine, self.device, self.load_seconds = loaded.engine, loaded.device, loaded.load_seconds
        return self

    @property
    def enable_thinking(self) -> bool | None:
        """``cfg.enable_thinking`` when set, else the model config's chat-template default."""
        own = getattr(self.cfg, "enable_thinking", None)
        return own if own is not None else self.spec.chat_template_kwargs.get("enable_thinking")
