"""ToolRL's training set (Qian et al. 2025; the paper's function-calling training data, Sec. 4) as ``kind: problems``
rows: ``load_toolrl(path, split)`` reads ToolRL's ``dataset/rlla_4k/{train,test}.parquet`` (verl format: a system
turn listing the tools and the output format, a user turn with the dialogue history, ``reward_model.ground_truth``)
or a JSON-lines file of the same rows. Each problem is one assistant turn scored by
:func:`resrl.verifiers.toolrl.toolrl_reward` (no tool runs during training, as in ToolRL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_toolrl(path: Path, split: str) -> list[dict[str, Any]]:
    path = Path(path)
    if path.is_dir():
        path = path / f"{split}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"ToolRL {split} split not found: {path}")
    if path.suffix == ".parquet":
        import pandas as pd

        rows = pd.read_parquet(path).to_dict("records")
    else:
        from resrl.records.jsonl import read_jsonl

        rows = read_jsonl(path)
    out = []
    for i, row in enumerate(rows):
        messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in row["prompt"]]
        info = row.get("extra_info") or {}
        out.append(
            {
                "id": f"toolrl-{split}-{info.get('index', i)}",
                "messages": messages,
                "answer": str(row["reward_model"]["ground_truth"]),
            }
        )
    return out
