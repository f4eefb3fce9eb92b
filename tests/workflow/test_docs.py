"""Every test that docs/fidelity.md, docs/cluster.md and the README name exists (a renamed or deleted test must
not leave a document pointing at nothing)."""

from __future__ import annotations

import re

import pytest

from resrl.paths import REPO_ROOT

DOCS = ["docs/fidelity.md", "docs/cluster.md", "README.md"]
REF = re.compile(r"`(tests/[\w/]+\.py)((?:::[\w\[\]\-.…]+)*)`")


def _refs(doc: str) -> list[tuple[str, list[str]]]:
    text = (REPO_ROOT / doc).read_text()
    out = []
    for m in REF.finditer(text):
        names = [n for n in m.group(2).split("::") if n]
        out.append((m.group(1), names))
    return out


@pytest.mark.parametrize("doc", DOCS)
def test_named_tests_exist(doc):
    refs = _refs(doc)
    assert refs, f"{doc} names no test"
    missing = []
    for path, names in refs:
        file = REPO_ROOT / path
        if not file.is_file():
            missing.append(path)
            continue
        source = file.read_text()
        for name in names:
            base = name.split("[")[0]
            if base.endswith("…") or base.startswith("…"):  # an abbreviated parametrised id
                continue
            if base.endswith("*"):
                base = base[:-1]
            if not re.search(rf"def {re.escape(base)}", source):
                missing.append(f"{path}::{name}")
    assert not missing, f"{doc} names tests that do not exist: {missing}"
