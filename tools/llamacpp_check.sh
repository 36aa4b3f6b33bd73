#!/usr/bin/env bash
# Dev-side llama.cpp check (not in CI): builds llama.cpp (CPU, Release) from the llama-cpp-python sdist's
# vendor/llama.cpp into a folder outside the repo, then shows that tune.cpp's LoRA adapter GGUF loads in llama.cpp
# and moves the logits as tune.cpp's own engine does (tools/llamacpp_check.py compares them).
# usage: tools/llamacpp_check.sh build            download the sdist and build (LLAMACPP_DIR, default /work/llamacpp)
#        tools/llamacpp_check.sh check BASE.gguf RUN_DIR   compare base vs base+lora on RUN_DIR's adapter
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
  nice -n 10 cmake --build "$root/build" -j "$jobs" --target llama-completion llama-bench
  # a tiny program against libllama: the last position's logits for given token ids, with and without a LoRA
  nice -n 10 g++ -O2 -std=c++17 "$repo/tools/llamacpp_logits.cpp" -I "$src/vendor/llama.cpp/include" \
    -I "$src/vendor/llama.cpp/ggml/include" -L "$root/build/bin" -lllama -lggml -lggml-base \
    -Wl,-rpath,"$root/build/bin" -o "$root/build/bin/llamacpp-logits"
  echo "built: $root/build/bin/{llama-completion,llama-bench,llamacpp-logits}"
}

case "${1:-}" in
  build) build ;;
  *) echo "usage: $0 build | check BASE.gguf RUN_DIR" >&2; exit 2 ;;
esac
