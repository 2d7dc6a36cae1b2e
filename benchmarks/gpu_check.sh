#!/usr/bin/env bash
# GPU check on a bare machine with one NVIDIA GPU, in under 8 minutes:
#   bash benchmarks/gpu_check.sh OUTDIR
# Installs reczoo with the `and-cuda` extra into a fresh virtual environment,
# then writes into OUTDIR:
#   throughput/  the throughput suite on the GPU, float32 then mixed_float16,
#                each with XLA off and on (the measurement behind --jit=auto);
#   accuracy/    a short accuracy check on real data: DeepFM on Frappe_x1
#                (BARS' recipe) and SASRec on Amazon Games capped at 20 epochs;
#   criteo_scaling.jsonl  DeepFM and DCN-v2 training examples/s at Criteo's
#                shape (26 tables hashed to 2**20 rows), mixed precision and
#                XLA, 65,536 rows per replica, on one GPU and, where several
#                are visible, under `mirrored` on 2, 4, ... of them (NVIDIA's
#                TF2 DCN-v2 reference: ~1.37M examples/s on one A100).
# Each folder holds results.jsonl, results.csv, report.md and plots/.
# Needs the public data under RECZOO_DATA_DIR, or network access to download it.
set -euo pipefail
out="${1:?usage: bash benchmarks/gpu_check.sh OUTDIR}"
cd "$(dirname "$0")/.."
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/nvidia-smi.csv"

venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ".[and-cuda]"
export TF_CPP_MIN_LOG_LEVEL=2
reczoo="$venv/bin/reczoo"

start=$(date +%s)
for precision in float32 mixed_float16; do
  for jit in off on; do
    "$reczoo" benchmark --suite=throughput --device=gpu --precision="$precision" --jit="$jit" \
      --models='deepfm,sasrec' --output="$out/throughput" --quiet
  done
done
"$reczoo" benchmark --suite=quick --device=gpu --models='deepfm,sasrec' \
  --datasets=frappe-x1,amazon-games --output="$out/accuracy" --quiet
"$venv/bin/python" benchmarks/criteo_scaling.py --output="$out/criteo_scaling.jsonl"
echo "gpu_check: done in $(( $(date +%s) - start )) s; rows and plots in $out"
