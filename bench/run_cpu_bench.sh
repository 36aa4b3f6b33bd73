#!/usr/bin/env bash
# Runs tune.cpp's CPU forward+backward benchmark and, when a Python venv with torch + transformers + peft is given
# (REFENV, default ./refenv or /work/refenv), the HF+PEFT PyTorch one with the same shape and thread count, side by
# side. Appends both JSON lines and their ratio to bench/results/cpu_fwd_bwd.jsonl with the machine named.
# usage: bench/run_cpu_bench.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
build="${TUNE_BUILD_DIR:-build}"
ninja -C "$build" cpu_fwd_bwd >/dev/null
machine="$(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
out=bench/results/cpu_fwd_bwd.jsonl
ours=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$build/cpu_fwd_bwd")
echo "$ours"
theirs=""
for venv in "${REFENV:-}" refenv /work/refenv; do
  if [ -n "$venv" ] && [ -x "$venv/bin/python" ]; then
    theirs=$("$venv/bin/python" bench/hf_cpu_bench.py --threads "$threads")
    echo "$theirs"
    break
  fi
done
python3 - "$ours" "$theirs" "$machine" "$out" <<'PY'
import json, sys, datetime
ours, theirs, machine, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rec = {"date": datetime.date.today().isoformat(), "machine": machine, "tune": json.loads(ours)}
if theirs:
    rec["hf_peft"] = json.loads(theirs)
    rec["speedup_vs_hf"] = round(rec["tune"]["tokens_per_s"] / rec["hf_peft"]["tokens_per_s"], 3)
with open(out, "a") as f:
    f.write(json.dumps(rec) + "\n")
print(json.dumps({k: rec[k] for k in rec if k in ("machine", "speedup_vs_hf")}))
PY
