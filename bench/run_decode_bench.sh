#!/usr/bin/env bash
# Runs tune.cpp's KV-cache generation benchmark (prefill and greedy decode tokens/s, LoRA branch or none) and, when a
# Python venv with torch + transformers + peft is found (REFENV, ./refenv or /work/refenv), HF generate on the same
# shape and thread count; appends every JSON line, with the date, the machine and the exact command, to
# bench/results/cpu_decode.jsonl.
# usage: bench/run_decode_bench.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-1}"
build="${TUNE_BUILD_DIR:-build}"
ninja -C "$build" cpu_decode >/dev/null
machine="$(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
command="OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads $build/cpu_decode"
record() {  # record COMMAND JSON_LINES
  python3 - "$2" "$machine" "$1" bench/results/cpu_decode.jsonl <<'PY'
import json, sys, datetime
lines, machine, command, out = sys.argv[1:5]
with open(out, "a") as f:
    for line in lines.splitlines():
        rec = {"date": datetime.date.today().isoformat(), "machine": machine, "command": command, **json.loads(line)}
        f.write(json.dumps(rec) + "\n")
PY
}
ours=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$build/cpu_decode")
echo "$ours"
record "$command" "$ours"
for venv in "${REFENV:-}" refenv /work/refenv; do
  if [ -n "$venv" ] && [ -x "$venv/bin/python" ]; then
    theirs=$("$venv/bin/python" bench/hf_cpu_decode.py --threads "$threads" 2>/dev/null)
    echo "$theirs"
    record "$venv/bin/python bench/hf_cpu_decode.py --threads $threads" "$theirs"
    break
  fi
done
