#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz and runs each over a scratch copy of its seed
# corpus for a bounded number of runs and time. Exits non-zero when any target crashes.
#   usage: scripts/fuzz.sh [RUNS]   (RUNS per target, default 20000; each target also stops after MAX_TIME seconds)
#   env:   MAX_TIME (default 60), JOBS (build parallelism, default 2), CXX (default clang++-14 or clang++)
set -euo pipefail

runs="${1:-20000}"
max_time="${MAX_TIME:-60}"
jobs="${JOBS:-2}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
cxx="${CXX:-$(command -v clang++-14 || command -v clang++ || true)}"
[[ -n "$cxx" ]] || { echo "fuzz.sh: clang++ not found (install clang and libclang-rt-dev)" >&2; exit 2; }
targets=(fuzz_safetensors fuzz_json_configs fuzz_chat_request fuzz_gguf)

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
  -DTUNE_FUZZ=ON -DTUNE_BUILD_TESTS=OFF -DTUNE_CUDA=OFF >/dev/null
ninja -C "$build" -j"$jobs" "${targets[@]}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/tune-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
status=0
for target in "${targets[@]}"; do
  corpus="$scratch/$target"
  artifacts="$root/build-fuzz/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  cp "$root/fuzz/corpus/$target/"* "$corpus/"
  echo "== $target: up to $runs runs / ${max_time}s (crash inputs go to $artifacts/)"
  dict=()
  [[ -f "$root/fuzz/$target.dict" ]] && dict=(-dict="$root/fuzz/$target.dict")
  if ! "$build/fuzz/$target" "${dict[@]}" -runs="$runs" -max_total_time="$max_time" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
      >"$scratch/$target.log" 2>&1; then
    echo "!! $target found a problem; log tail:" >&2
    tail -n 60 "$scratch/$target.log" >&2
    status=1
  else
    grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$scratch/$target.log" || true
  fi
done
exit "$status"
