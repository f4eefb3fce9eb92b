"""Write the call signatures of vLLM's offline API as JSON (run with an interpreter where vllm imports).

    .venv-vllm-api/bin/python scripts/snapshot_vllm_api.py tests/gpu_sim/vllm_api.json

The tests in tests/gpu_sim check every keyword the project passes to ``vllm.LLM``, ``vllm.SamplingParams`` and
``LLM.generate`` against this snapshot (names and types), without a GPU and without vllm installed. Build the
interpreter with ``make vllm-api-venv`` (the vLLM wheel without its CUDA dependencies; its Python API imports on
a CPU-only machine, building an ``LLM`` does not).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import sys


def _annotation(obj) -> str:
    if obj is inspect.Parameter.empty:
        return ""
    if isinstance(obj, str):
        return obj
    return inspect.formatannotation(obj)


def _params(func) -> list[dict]:
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.name == "self":
            continue
        out.append({"name": p.name, "kind": p.kind.name, "annotation": _annotation(p.annotation)})
    return out


def snapshot() -> dict:
    import vllm
    from vllm import LLM, EngineArgs, SamplingParams
    from vllm.inputs import TokensPrompt

    return {
        "vllm_version": vllm.__version__,
        "LLM.__init__": _params(LLM.__init__),
        "LLM.generate": _params(LLM.generate),
        "LLM.methods": sorted(m for m in dir(LLM) if not m.startswith("_")),
        "EngineArgs": {f.name: _annotation(f.type) for f in dataclasses.fields(EngineArgs)},
        "SamplingParams": _params(SamplingParams),
        "TokensPrompt": sorted(TokensPrompt.__annotations__),
    }


if __name__ == "__main__":
    data = json.dumps(snapshot(), indent=1, sort_keys=True) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as fh:
            fh.write(data)
    else:
        sys.stdout.write(data)
