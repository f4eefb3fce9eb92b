"""resrl.records: umask-respecting atomic writes, the exclusive lock, fingerprints."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from resrl.records import (
    FolderLocked,
    atomic_write_text,
    config_fingerprint,
    content_fingerprint,
    differing_keys,
    exclusive_lock,
    new_temp_dir,
    publish_tree,
)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_and_temp_dirs_honour_the_umask(tmp_path, umask_022):
    f = atomic_write_text(tmp_path / "a" / "x.txt", "hi")
    assert _mode(f) == 0o644 and f.read_text() == "hi"
    os.chmod(f, 0o600)
    atomic_write_text(f, "again")  # a replaced file keeps its mode
    assert _mode(f) == 0o600
    d = new_temp_dir(tmp_path, ".tmp_")
    assert _mode(d) == 0o755


def test_publish_tree_fixes_private_files_written_by_libraries(tmp_path, umask_022):
    import tempfile

    root = tmp_path / "model"
    root.mkdir(mode=0o700)
    fd, name = tempfile.mkstemp(dir=root)  # 0600, as mkstemp makes it
    os.close(fd)
    (root / "sub").mkdir(mode=0o700)
    (root / "sub" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "sub" / "run.sh", 0o700)
    publish_tree(root)
    assert _mode(root) == 0o755 and _mode(root / "sub") == 0o755
    assert _mode(root / os.path.basename(name)) == 0o644 and _mode(root / "sub" / "run.sh") == 0o755


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    lock = tmp_path / "run" / ".lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from resrl.records import exclusive_lock\n"
                f"with exclusive_lock({str(lock)!r}):\n    print('held', flush=True); time.sleep(30)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderLocked, match=rf"in use by another process \(pid {holder.pid} on "):
            with exclusive_lock(lock):
                pass
    finally:
        holder.kill()
        holder.wait()
    deadline = time.time() + 10
    while True:  # a killed holder leaves no stale lock: the kernel released it
        try:
            with exclusive_lock(lock):
                break
        except FolderLocked:
            assert time.time() < deadline
            time.sleep(0.1)


def test_config_fingerprint_ignores_neutral_keys_and_names_differences():
    a = {"method": {"name": "resrl", "rank": 64}, "trainer": {"lr": 1e-6, "threads": 2}}
    b = {"method": {"name": "resrl", "rank": 16}, "trainer": {"lr": 1e-3, "threads": 1}}
    neutral = ["trainer.threads"]
    assert config_fingerprint(a, neutral) == config_fingerprint(
        {**a, "trainer": {**a["trainer"], "threads": 8}}, neutral
    )
    assert config_fingerprint(a, neutral) != config_fingerprint(b, neutral)
    assert differing_keys(a, b, neutral) == ["method.rank", "trainer.lr"]


def test_content_fingerprint_follows_bytes_not_paths(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        d.mkdir()
        (d / "config.json").write_text("{}")
        (d / "model.safetensors").write_bytes(b"weights-1")
    (one / "notes.log").write_text("ignored")
    assert content_fingerprint(one) == content_fingerprint(two)  # same content elsewhere
    before = content_fingerprint(one)
    time.sleep(0.01)
    (one / "model.safetensors").write_bytes(b"weights-2")  # another model at the same path
    assert content_fingerprint(one) != before
    with pytest.raises(FileNotFoundError, match="holds no model files"):
        content_fingerprint((tmp_path / "empty").mkdir() or tmp_path / "empty")
