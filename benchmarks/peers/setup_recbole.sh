#!/usr/bin/env bash
# Creates RecBole's own virtual environment, outside the project's.
# CPU torch only: `torch==2.13.0` is the CPU build (a range or a bare `torch`
# would pull a CUDA build of several GB). RecBole 1.2.1 crashes on numpy 2, and
# the ray it pulls in imports pkg_resources, gone from setuptools 81 (see PEERS.md).
set -euo pipefail
target="${1:-${RECZOO_PEERS_DIR:-$HOME/.cache/reczoo-peers}/recbole}"
python3 -m venv "$target"
"$target/bin/pip" install --quiet --upgrade pip
"$target/bin/pip" install --quiet "torch==2.13.0"
"$target/bin/pip" install --quiet "recbole==1.2.1" "numpy<2" "scipy<1.14" "pandas<2.3" "setuptools<81"
echo "$target/bin/python"
