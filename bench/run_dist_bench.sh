#!/usr/bin/env bash
# Data-parallel CPU training throughput: `tune train` (rm stage, LoRA on every projection, a random Gemma of hidden
# 256 x 4 layers with the age_bias tokenizer, on the age_bias pairs) as 1 process with all threads, 1 process with
# 1 thread, and 2 MPI ranks (mpirun) with the threads split between them, at the same total batch (micro-batch 2 x
# accumulation 8 on one process, x 4 on each of 2 ranks). Appends one JSON line per run to
# bench/results/dist_train.jsonl: tokens/s (padded input tokens of all ranks per second of training), the gradient
# sync time per optimizer step as the trainer sees it (the all-reduce plus waiting for the slower rank), the load
# average (the machine may be shared), and then the bare all-reduce of that gradient size (bench/dist_allreduce.cpp).
# usage: bench/run_dist_bench.sh [STEPS]          (needs OpenMPI: scripts/setup.sh installs it)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-12}"
build="${TUNE_BUILD_DIR:-build}"
ninja -C "$build" tune dist_allreduce >/dev/null
cores=$(nproc)
machine="$(uname -m), $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/tune" new-model "$work/model" --vocab 2000 --hidden 256 --intermediate 1024 --layers 4 --heads 4 \
  --kv-heads 1 --head-dim 64 --seed 0 >/dev/null
cp examples/age_bias/model/tokenizer.model examples/age_bias/model/*.json "$work/model/"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # mpirun refuses root without both
out=bench/results/dist_train.jsonl

run() {  # ranks threads accumulation
  local ranks=$1 threads=$2 ga=$3 log="$work/run_$1_$2.log"
  local args=(train examples/age_bias/rm_lora.yaml "model_name_or_path=$work/model" "output_dir=$work/out_${ranks}_$threads"
              overwrite_output_dir=true lora_target=all per_device_train_batch_size=2 "gradient_accumulation_steps=$ga"
              "max_steps=$steps" logging_steps=1000 evaluation_strategy=no do_eval=false save_steps=100000
              plot_loss=false "threads=$threads")
  if [ "$ranks" -eq 1 ]; then
    "$build/tune" "${args[@]}" >"$log" 2>&1
  else
    mpirun --oversubscribe --bind-to none -np "$ranks" "$build/tune" "${args[@]}" >"$log" 2>&1
  fi
  python3 - "$log" "$ranks" "$threads" "$ga" "$steps" "$machine" "$out" <<'PY'
import datetime, json, re, sys
log, ranks, threads, ga, steps, machine, out = sys.argv[1:]
text = open(log).read()
m = re.search(r"throughput: (\d+) tokens/s \((\d+) padded input tokens in ([\d.]+) s on (\d+) process\(es\)\); "
              r"gradient sync of (\d+) values \(all-reduce and wait for the slowest rank\): ([\d.]+) ms per optimizer step", text)
if not m:
    sys.exit("no throughput line in " + log + ":\n" + text[-2000:])
rec = {"date": datetime.date.today().isoformat(), "machine": machine, "bench": "tune_dist_train",
       "loadavg_1min": float(open("/proc/loadavg").read().split()[0]),
       "model": "gemma hidden 256, 4 layers, vocab 2000; rm; LoRA r8 all projections + value head",
       "ranks": int(ranks), "threads_per_rank": int(threads), "micro_batch": 2, "grad_accum": int(ga),
       "total_batch": 2 * int(ga) * int(ranks), "optimizer_steps": int(steps),
       "tokens_per_s": int(m.group(1)), "tokens": int(m.group(2)), "train_seconds": float(m.group(3)),
       "allreduce_values": int(m.group(5)), "grad_sync_ms_per_step": float(m.group(6)),
       "command": "bench/run_dist_bench.sh " + steps}
open(out, "a").write(json.dumps(rec) + "\n")
print(json.dumps(rec))
PY
}

run 1 "$cores" 8
run 1 1 8
run 2 $(( cores / 2 > 0 ? cores / 2 : 1 )) 4
values=$(python3 -c "import json; print(json.loads(open('$out').read().splitlines()[-1])['allreduce_values'])")
bare=$(mpirun --oversubscribe --bind-to none -np 2 "$build/dist_allreduce" "$values" 50)
python3 - "$bare" "$machine" "$out" <<'PY'
import datetime, json, sys
rec = {"date": datetime.date.today().isoformat(), "machine": sys.argv[2],
       "loadavg_1min": float(open("/proc/loadavg").read().split()[0]), **json.loads(sys.argv[1]),
       "command": "mpirun -np 2 build/dist_allreduce"}
open(sys.argv[3], "a").write(json.dumps(rec) + "\n")
print(json.dumps(rec))
PY
