#!/usr/bin/env bash
# The main job: set up, create the bundled example's tiny Gemma model, and train the LoRA reward model on the
# age_bias pairs with LLaMA-Factory's recipe (examples/age_bias/rm_lora.yaml). Results: saves/age_bias/rm_lora.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh tune  # the binary only: scripts/test.sh builds the tests
build="${TUNE_BUILD_DIR:-build}"
"$build/tune" new-model examples/age_bias/model --vocab 2000 --hidden 64 --intermediate 256 --layers 2 --heads 4 \
  --kv-heads 1 --head-dim 16 --seed 0
"$build/tune" train examples/age_bias/rm_lora.yaml "$@"
echo "demo: outputs in saves/age_bias/rm_lora (adapter, value head, model card README.md, plots, logs)"
