#!/usr/bin/env bash
# The main job until training lands: set up, create a tiny random Gemma model, and run LoRA forward+backward passes
# with the LM head and with a reward-model value head.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build="${TUNE_BUILD_DIR:-build}"
model="$build/demo/tiny-gemma"
"$build/tune" new-model "$model" --vocab 1024 --hidden 128 --intermediate 512 --layers 4 --heads 4 --kv-heads 1 --head-dim 32
"$build/tune" inspect "$model"
"$build/tune" step "$model" --lora-target all --lora-r 8 --batch 4 --seq 128 --iters 3 --head lm
"$build/tune" step "$model" --lora-target q_proj,v_proj --lora-r 8 --batch 4 --seq 128 --iters 3 --head value
