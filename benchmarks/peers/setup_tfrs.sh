#!/usr/bin/env bash
# Creates TensorFlow Recommenders' own virtual environment, outside the project's.
# TFRS 0.7 imports only with tf-keras (Keras 2) and TF_USE_LEGACY_KERAS=1.
# tensorflow-recommenders and tf-keras go in with --no-deps: their dependency on
# `tensorflow` would pull a second TensorFlow distribution beside tensorflow-cpu
# (see ../shared/PEERS.md).
set -euo pipefail
target="${1:-${RECZOO_PEERS_DIR:-$HOME/.cache/reczoo-peers}/tfrs}"
python3 -m venv "$target"
"$target/bin/pip" install --quiet --upgrade pip
"$target/bin/pip" install --quiet "tensorflow-cpu==2.21.*" "numpy<3"
"$target/bin/pip" install --quiet --no-deps "tf-keras==2.21.*" "tensorflow-recommenders==0.7.7"
echo "$target/bin/python"
