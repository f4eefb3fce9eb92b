#!/usr/bin/env bash
# Re-resolve the cluster lock cluster/requirements-linux-x86_64-cuda.txt from cluster/requirements.in, for the
# cluster's platform (Linux x86_64, glibc >= 2.28, CPython 3.11; torch/vLLM CUDA wheels as PyPI ships them).
# Resolving needs no GPU (about 10 s here). Needs uv: `pip install uv`, or UV=/path/to/uv.
#   scripts/lock_cluster_env.sh              # keep the current pins where still allowed
#   scripts/lock_cluster_env.sh --upgrade    # newest versions everything allows (extra args go to uv)
# The first line records the sha256 of requirements.in: tests/workflow/test_cluster_env.py fails when the lock is
# older than requirements.in, and scripts/setup_cluster_env.sh refuses to install it.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || true)}
if [ -z "$UV" ]; then
  echo "error: uv not found: pip install uv (into any venv), or set UV=/path/to/uv" >&2
  exit 2
fi
in=cluster/requirements.in
out=cluster/requirements-linux-x86_64-cuda.txt
tmp=$(mktemp --suffix=.txt)
trap 'rm -f "$tmp"' EXIT
# uv prefers the pins already in its output file: start from the current lock without our header line
if [ -f "$out" ]; then grep -v '^# requirements.in sha256: ' "$out" > "$tmp" || true; fi
"$UV" pip compile "$in" --python-platform x86_64-manylinux_2_28 --python-version 3.11 \
  --custom-compile-command "scripts/lock_cluster_env.sh" --quiet -o "$tmp" "$@"
{ echo "# requirements.in sha256: $(sha256sum "$in" | cut -d' ' -f1)"; cat "$tmp"; } > "$out"
echo "wrote $out: $(grep -c '^[A-Za-z0-9].*==' "$out") pinned packages" >&2
