#!/usr/bin/env bash
# Creates DeepCTR's own virtual environment, outside the project's.
# DeepCTR's CI tests new TensorFlow only with tf-keras and TF_USE_LEGACY_KERAS=1,
# so the runner uses that mode. tf-keras goes in with --no-deps: its metadata
# asks for `tensorflow`, which would install a second TensorFlow beside
# tensorflow-cpu (see PEERS.md).
set -euo pipefail
target="${1:-${RECZOO_PEERS_DIR:-$HOME/.cache/reczoo-peers}/deepctr}"
python3 -m venv "$target"
"$target/bin/pip" install --quiet --upgrade pip
"$target/bin/pip" install --quiet "deepctr==0.9.4" "tensorflow-cpu==2.21.*" "numpy<3" "h5py" "requests"
"$target/bin/pip" install --quiet --no-deps "tf-keras==2.21.*"
echo "$target/bin/python"
