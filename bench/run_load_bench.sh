#!/usr/bin/env bash
# The bundled demo's training (scripts/demo.sh's model and examples/age_bias/rm_lora.yaml, cut to MAX_STEPS optimizer
# steps) timed on the machine as it is ("idle") and beside a CPU hog on every core (stress-ng --cpu N), for threads
# 1, 2 and the default; appends one JSON line per run (machine, load average at start, wall seconds, exact command,
# git rev of the binary) to bench/results/cpu_load.jsonl. Six runs, each capped at LIMIT seconds: under 8 minutes.
# usage: bench/run_load_bench.sh [MAX_STEPS]      (default 40; TUNE_BUILD_DIR picks the build, default build/;
#                                                  TUNE_LOAD_LIMIT the per-run cap in seconds, default 70)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-40}"
build="${TUNE_BUILD_DIR:-build}"
limit="${TUNE_LOAD_LIMIT:-70}"
out=bench/results/cpu_load.jsonl

if ! command -v stress-ng >/dev/null; then  # the load generator: a Debian package only this benchmark needs
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq stress-ng
fi
[ -f "$build/build.ninja" ] && ninja -C "$build" tune >/dev/null
tune="$build/tune"

cores=$(nproc)
machine="$(uname -m), $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
rev=$("$tune" version | sed -n 's/.*(git \([^)]*\)).*/\1/p')
work=$(mktemp -d)
hog=""
cleanup() {
  [ -n "$hog" ] && kill "$hog" 2>/dev/null && wait "$hog" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# scripts/demo.sh's model, in a scratch folder (the tokenizer files are the example's)
mkdir -p "$work/model"
cp examples/age_bias/model/tokenizer.model examples/age_bias/model/tokenizer_config.json \
   examples/age_bias/model/special_tokens_map.json "$work/model/"
"$tune" new-model "$work/model" --vocab 2000 --hidden 64 --intermediate 256 --layers 2 --heads 4 --kv-heads 1 \
  --head-dim 16 --seed 0 >/dev/null

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

run_one() {  # run_one LOAD THREADS_LABEL [threads=N]
  local load=$1 label=$2
  shift 2
  local cmd=("$tune" train examples/age_bias/rm_lora.yaml "model_name_or_path=$work/model"
             "output_dir=$work/out" "max_steps=$steps" plot_loss=false "$@")
  local loadavg t0 t1 rc=0
  loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "bench: [$load, threads $label] ${cmd[*]}" >&2
  t0=$(date +%s.%N)
  timeout "$limit" "${cmd[@]}" >"$work/log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
    cat "$work/log" >&2
    echo "bench: the run failed (exit $rc)" >&2
    exit 1
  fi
  local wall timed_out=false
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  [ "$rc" -eq 124 ] && timed_out=true
  echo "bench:   wall ${wall} s (timed out: $timed_out), load average at start $loadavg" >&2
  {
    printf '{"date": "%s", "bench": "cpu_load", "machine": %s, "load": %s, "threads": %s, ' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(json_str "$machine")" "$(json_str "$load")" "$(json_str "$label")"
    printf '"max_steps": %s, "loadavg_start": %s, "wall_s": %s, "timed_out": %s, "limit_s": %s, ' \
      "$steps" "$(json_str "$loadavg")" "$wall" "$timed_out" "$limit"
    printf '"command": %s, "git_rev": %s}\n' "$(json_str "${cmd[*]}")" "$(json_str "$rev")"
  } >>"$out"
}

run_all() {  # run_all LOAD
  run_one "$1" 1 threads=1
  run_one "$1" 2 threads=2
  run_one "$1" default
}

run_all idle
stress-ng --cpu "$cores" --cpu-method int64 --quiet &
hog=$!
sleep 2
run_all "stress-ng --cpu $cores"
kill "$hog"
wait "$hog" 2>/dev/null || true
hog=""
echo "bench: appended 6 lines to $out" >&2
