#!/usr/bin/env bash
# Dev-side llama.cpp check (not in CI): builds llama.cpp (CPU, Release) from the llama-cpp-python sdist's
# vendor/llama.cpp into a folder outside the repo, then shows that tune.cpp's LoRA adapter GGUF loads in llama.cpp
# and moves the logits as tune.cpp's own engine does (tools/llamacpp_check.py compares them).
# usage: tools/llamacpp_check.sh build     download the sdist and build (LLAMACPP_DIR, default /work/llamacpp)
#        tools/llamacpp_check.sh check [BASE.gguf ADAPTER_DIR TEMPLATE]
#          (default: SmolLM2-135M-Instruct.Q4_1.gguf and the PEFT-made adapter tests/data/gguf_model/smollm2/adapter)
# check: `tune export` writes ADAPTER_DIR as a LoRA GGUF (f32 and f16); llama-completion --lora loads it and
# generates; llamacpp-logits (llama.cpp) and bench/logits_probe (tune, adapter merged) give the last-position logits
# of the fixture's prompts with and without the adapter, on the base dequantized to F32 by llama-quantize (so both
# engines compute the same fp32 function and differences are rounding, not Q4 arithmetic) and on the quantized
# file itself; tools/llamacpp_check.py compares the moves. One JSON line per comparison goes to
# bench/results/llamacpp_check.jsonl with the commands.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${LLAMACPP_DIR:-/work/llamacpp}"
jobs="${JOBS:-2}"

build() {
  mkdir -p "$root"
  cd "$root"
  [ -f llama_cpp_python-*.tar.gz ] || pip download --no-deps --no-binary :all: llama-cpp-python
  sdist=$(ls llama_cpp_python-*.tar.gz | sort -V | tail -1)
  src="$root/${sdist%.tar.gz}"
  [ -d "$src" ] || tar xzf "$sdist"
  cmake -S "$src/vendor/llama.cpp" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_NATIVE=ON \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_APP=OFF -DBUILD_SHARED_LIBS=ON
  nice -n 10 cmake --build "$root/build" -j "$jobs" --target llama-completion llama-bench llama-quantize
  # a tiny program against libllama: the last position's logits for given token ids, with and without a LoRA
  nice -n 10 g++ -O2 -std=c++17 "$repo/tools/llamacpp_logits.cpp" -I "$src/vendor/llama.cpp/include" \
    -I "$src/vendor/llama.cpp/ggml/include" -L "$root/build/bin" -lllama -lggml -lggml-base \
    -Wl,-rpath,"$root/build/bin" -o "$root/build/bin/llamacpp-logits"
  echo "built: $root/build/bin/{llama-completion,llama-bench,llama-quantize,llamacpp-logits}"
}

check() {
  local base="${1:-$HOME/.cache/tune/gguf/SmolLM2-135M-Instruct.Q4_1.gguf}"
  local adapter="${2:-$repo/tests/data/gguf_model/smollm2/adapter}" template="${3:-smollm2}"
  local bin="$root/build/bin" work="$root/check" build="${TUNE_BUILD_DIR:-$repo/build}"
  local threads="${THREADS:-2}" out="$repo/bench/results/llamacpp_check.jsonl"
  mkdir -p "$work"
  ninja -C "$build" tune logits_probe >/dev/null
  # the fixture's plain and chat prompts (token ids of the SmolLM2 tokenizer)
  mapfile -t prompts < <(python3 -c 'import json,sys; [print(",".join(map(str, p["input_ids"]))) for p in
    json.load(open(sys.argv[1]))["prompts"][:2]]' "$repo/tests/data/gguf_model/smollm2/expected.json")
  "$bin/llama-quantize" --allow-requantize "$base" "$work/base_f32.gguf" F32 >/dev/null 2>&1
  for type in f32 f16; do
    printf 'model_name_or_path: %s\nadapter_name_or_path: %s\ntemplate: %s\nexport_lora_gguf: %s\nexport_lora_gguf_type: %s\n' \
      "$base" "$adapter" "$template" "$work/lora_$type.gguf" "$type" >"$work/export_$type.yaml"
    "$build/tune" export "$work/export_$type.yaml"
  done
  echo "== llama-completion with and without the adapter (greedy, 16 tokens)"
  local text
  for lora in "" "--lora $work/lora_f32.gguf"; do
    text=$("$bin/llama-completion" -m "$base" $lora -p "The capital of France is" -n 16 --temp 0 -no-cnv \
      -t "$threads" 2>/dev/null)
    echo "llama-completion -m $base $lora: $text"
  done
  local i=0
  for ids in "${prompts[@]}"; do
    i=$((i + 1))
    "$build/logits_probe" --tokens "$ids" --greedy 20 --threads "$threads" "$base" >"$work/ours_base.json"
    "$build/logits_probe" --tokens "$ids" --greedy 20 --threads "$threads" "$base" "$adapter" >"$work/ours_lora.json"
    for model in base_f32.gguf "$(basename "$base")"; do
      local path="$work/$model"
      [ "$model" = "$(basename "$base")" ] && path="$base"
      for type in f32 f16; do
        "$bin/llamacpp-logits" "$path" --tokens "$ids" --greedy 20 --threads "$threads" >"$work/ll_base.json" 2>/dev/null
        local cmd="$bin/llamacpp-logits $path --tokens $ids --greedy 20 --threads $threads --lora $work/lora_$type.gguf"
        $cmd >"$work/ll_lora.json" 2>"$work/ll_lora.err" || { cat "$work/ll_lora.err" >&2; exit 1; }
        python3 "$repo/tools/llamacpp_check.py" "$work/ll_base.json" "$work/ll_lora.json" "$work/ours_base.json" \
          "$work/ours_lora.json" | python3 -c 'import json, sys, datetime, platform
r = json.loads(sys.stdin.read())
rec = {"date": datetime.date.today().isoformat(), "machine": sys.argv[1], "prompt": int(sys.argv[2]),
       "llama_cpp_base": sys.argv[3], "adapter_gguf": sys.argv[4], "llama_cpp_command": sys.argv[5],
       "tune_command": sys.argv[6], **r}
open(sys.argv[7], "a").write(json.dumps(rec) + "\n")
print(json.dumps({k: rec[k] for k in ("prompt", "llama_cpp_base", "adapter_gguf", "tune_move_max_abs",
      "llama_cpp_move_max_abs", "lora_max_abs_difference", "lora_relative_l2_to_move", "move_correlation",
      "argmax_equal_lora")}))' "$(uname -m), $(nproc) cores" "$i" "$model" "lora_$type.gguf" "$cmd" \
          "$build/logits_probe --tokens $ids --greedy 20 --threads $threads $base $adapter" "$out"
      done
    done
  done
}

case "${1:-}" in
  build) build ;;
  check) shift; check "$@" ;;
  *) echo "usage: $0 build | check [BASE.gguf ADAPTER_DIR TEMPLATE]" >&2; exit 2 ;;
esac
