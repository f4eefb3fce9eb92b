"""The GPU-simulation layer: catch on a CPU-only machine the mistakes that crash a first GPU run.

- ``stray_device``: a context where the *default* device is ``meta``. Inputs are real CPU tensors (so
  data-dependent code runs), and any tensor a function creates without following its inputs' device lands on
  ``meta``; mixing it with the inputs raises, exactly as a CPU tensor next to CUDA inputs does on a GPU
  (measured here: torch.quantile with a q on another device, elementwise ops, index_add_).
- ``fake_cuda``: ``FakeTensorMode`` with fake CUDA tensors, for functions without data-dependent Python control
  flow (no ``.item()``, no boolean indexing).
- ``fake_vllm``: a stand-in ``vllm`` module whose ``LLM``, ``SamplingParams`` and ``LLM.generate`` check every
  keyword's name and type against the signatures of the real vLLM 0.24.0 (``vllm_api.json``, written from the
  wheel by ``scripts/snapshot_vllm_api.py``; ``test_vllm_api_snapshot.py`` checks it is current when a vLLM API
  interpreter is available).
"""

from __future__ import annotations

import ast
import json
import os
import sys
import types
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

VLLM_API = json.loads((Path(__file__).parent / "vllm_api.json").read_text())


@contextmanager
def _stray_device():
    previous = torch.get_default_device()
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(previous)


@pytest.fixture
def stray_device():
    return _stray_device


@pytest.fixture
def fake_cuda():
    from torch._subclasses.fake_tensor import FakeTensorMode

    @contextmanager
    def mode():
        with FakeTensorMode(allow_non_fake_inputs=False) as m:
            yield m

    return mode


# ------------------------------------------------------------------------------------------- vLLM signatures
def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside brackets."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "[("
        depth -= ch in "])"
        if ch == sep and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


_SIMPLE = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "None": (type(None),),
    "NoneType": (type(None),),
    "list": (list,),
    "dict": (dict,),
    "set": (set,),
    "tuple": (tuple,),
}


def matches(value, annotation: str) -> bool:
    """Whether ``value`` fits a vLLM annotation string. Annotations this checker cannot read accept anything
    (``Any``, classes of vLLM's own), so a False is always a real mismatch."""
    ann = annotation.strip().replace("typing.", "")
    if not ann or ann in ("Any", "object"):
        return True
    alts = _split_top(ann, "|")
    if len(alts) > 1:
        return any(matches(value, a) for a in alts)
    for wrapper in ("Optional[", "Union["):
        if ann.startswith(wrapper) and ann.endswith("]"):
            inner = _split_top(ann[len(wrapper) : -1], ",")
            return value is None or any(matches(value, a) for a in inner)
    if ann.startswith("Literal[") and ann.endswith("]"):
        return value in ast.literal_eval("[" + ann[len("Literal[") : -1] + "]")
    base = ann.split("[", 1)[0]
    if base in _SIMPLE:
        if base in ("int", "float") and isinstance(value, bool):
            return base == "int"
        if not isinstance(value, _SIMPLE[base]):
            return False
        if base == "list" and "[" in ann:
            item = ann[len("list[") : -1]
            return all(matches(v, item) for v in value)
        return True
    if base in ("pathlib.Path", "Path"):
        return isinstance(value, (str, os.PathLike))
    return True


def check_call(api: str, params: list[dict], kwargs: dict, extra: dict[str, str] | None = None) -> None:
    """Raise TypeError (as Python or vLLM would) for a keyword ``params`` does not have or a value of the
    wrong type; ``extra``: the names ``**kwargs`` forwards to (EngineArgs for ``LLM``)."""
    named = {p["name"]: p["annotation"] for p in params if p["kind"] not in ("VAR_KEYWORD", "VAR_POSITIONAL")}
    for key, value in kwargs.items():
        ann = named.get(key)
        if ann is None and extra is not None:
            ann = extra.get(key)
        if ann is None:
            raise TypeError(
                f"{api} got an unexpected keyword argument {key!r} (vLLM {VLLM_API['vllm_version']})"
            )
        if not matches(value, ann):
            raise TypeError(f"{api}: {key}={value!r} ({type(value).__name__}) does not match {ann!r}")


class FakeSamplingParams(dict):
    def __init__(self, **kw):
        check_call("SamplingParams", VLLM_API["SamplingParams"], kw)
        super().__init__(kw)


def _fake_output(prompt: dict, params: FakeSamplingParams, index: int):
    ids = list(prompt["prompt_token_ids"])
    outs = []
    for s in range(params.get("n", 1)):
        tok = 5 + (index + s) % 3
        outs.append(
            SimpleNamespace(
                token_ids=[tok],
                text=f"t{tok}",
                finish_reason="stop",
                logprobs=[{tok: SimpleNamespace(logprob=-0.5)}],
            )
        )
    return SimpleNamespace(prompt_token_ids=ids, outputs=outs)


class FakeLLM:
    """``vllm.LLM`` that checks its arguments against vLLM 0.24.0 and answers every prompt with one token."""

    instances: list[FakeLLM] = []

    def __init__(self, model, **kwargs):
        init = VLLM_API["LLM.__init__"]
        check_call("LLM", init, {"model": model, **kwargs}, extra=VLLM_API["EngineArgs"])
        self.kwargs = {"model": model, **kwargs}
        self.generate_calls: list[tuple] = []
        FakeLLM.instances.append(self)

    def get_tokenizer(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.kwargs.get("tokenizer") or self.kwargs["model"])

    def generate(self, prompts, sampling_params=None, **kwargs):
        check_call("LLM.generate", VLLM_API["LLM.generate"], kwargs)
        if not isinstance(prompts, list) or not all(isinstance(p, dict) for p in prompts):
            raise TypeError(
                "the project sends token-id prompts (TokensPrompt dicts); got "
                f"{type(prompts).__name__} of {type(prompts[0]).__name__ if prompts else '-'}"
            )
        for p in prompts:
            unknown = set(p) - set(VLLM_API["TokensPrompt"])
            if unknown or not matches(p.get("prompt_token_ids"), "list[int]"):
                raise TypeError(f"not a TokensPrompt: keys {sorted(p)}")
        params = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        if len(params) != len(prompts) or not all(isinstance(sp, FakeSamplingParams) for sp in params):
            raise TypeError("sampling_params must be one SamplingParams or one per prompt")
        self.generate_calls.append((prompts, params))
        return [_fake_output(p, sp, i) for i, (p, sp) in enumerate(zip(prompts, params, strict=True))]


@pytest.fixture
def fake_vllm(monkeypatch):
    """Install the checking stand-in as ``vllm``; yields the ``FakeLLM`` class (``.instances``)."""
    module = types.ModuleType("vllm")
    module.__version__ = VLLM_API["vllm_version"]
    module.LLM, module.SamplingParams = FakeLLM, FakeSamplingParams
    FakeLLM.instances = []
    monkeypatch.setitem(sys.modules, "vllm", module)
    yield FakeLLM
