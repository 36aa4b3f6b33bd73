#!/usr/bin/env bash
# The real-GGUF benchmarks, side by side in one run on the machine as it is (the load average is recorded):
#  - decode: greedy decode tokens/s of tune's generation (bench/gguf_decode.cpp: llama-bench's -p 0 -n 64 test) and of
#    llama.cpp's `llama-bench -p 0 -n 64` on the same GGUF with the same thread count;
#  - train: `tune train` rm and sft (LoRA on every projection, the age_bias pairs; sft on their chosen answers) for
#    STEPS optimizer steps: tokens/s (the trainer's throughput line) and peak RSS (/usr/bin/time -v);
#  each with the base dequantized to fp32 (`gguf_weights=dequantize`) and kept quantized (`gguf_weights=keep`); a
#  command that fails is recorded as skipped with its last error line.
# Appends one JSON line per measurement, with the date, the machine, the exact command and the git rev, to
# bench/results/gguf_bench.jsonl. Needs scripts/fetch_models.sh's GGUFs (TUNE_GGUF_DIR, default ~/.cache/tune/gguf)
# and llama-bench from tools/llamacpp_check.sh build (LLAMACPP_DIR, default /work/llamacpp; absent: decode of tune
# only).
# usage: bench/run_gguf_bench.sh [THREADS] [STEPS]     (defaults 2 and 4; TRAIN_MODELS="smollm2 gemma3" picks the
#                                                       models trained, by template name; both by default)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
steps="${2:-4}"
build="${TUNE_BUILD_DIR:-build}"
gguf_dir="${TUNE_GGUF_DIR:-$HOME/.cache/tune/gguf}"
llama_bench="${LLAMACPP_DIR:-/work/llamacpp}/build/bin/llama-bench"
keep_key="gguf_weights=keep"
dequant_key="gguf_weights=dequantize"
train_models=" ${TRAIN_MODELS:-smollm2 gemma3} "
out=bench/results/gguf_bench.jsonl
ninja -C "$build" tune gguf_decode >/dev/null
tune="$build/tune"
machine="$(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
rev=$("$tune" version | sed -n 's/.*(git \([^)]*\)).*/\1/p')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=passive  # what the tune binary sets for itself (cli/wait_policy); the bench binaries run bare

models=("SmolLM2-135M-Instruct.Q4_1.gguf smollm2" "gemma-3-270m-q4_k_m.gguf gemma3")

# record JSON: appends one line with the common fields
record() {
  python3 - "$1" "$machine" "$rev" "$out" <<'PY'
import json, sys, datetime
rec, machine, rev, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rec = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "machine": machine,
       "loadavg_start": open("/proc/loadavg").read().split()[0], "git_rev": rev, **rec}
with open(out, "a") as f:
    f.write(json.dumps(rec) + "\n")
print(json.dumps(rec))
PY
}

# The sft data: the age_bias pairs' chosen answers as alpaca rows (same prompts as rm).
mkdir -p "$work/data"
python3 - examples/age_bias/data/age_bias.json "$work/data" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
json.dump([{"instruction": r["instruction"], "input": r["input"], "output": r["output"][0]} for r in rows],
          open(sys.argv[2] + "/age_bias_sft.json", "w"))
json.dump({"age_bias": {"file_name": "age_bias.json", "ranking": True,
                        "columns": {"prompt": "instruction", "query": "input", "response": "output"}},
           "age_bias_sft": {"file_name": "age_bias_sft.json"}}, open(sys.argv[2] + "/dataset_info.json", "w"))
PY
cp examples/age_bias/data/age_bias.json "$work/data/"

for entry in "${models[@]}"; do
  read -r file template <<<"$entry"
  gguf="$gguf_dir/$file"
  if [ ! -f "$gguf" ]; then echo "bench: $gguf is missing (scripts/fetch_models.sh), skipped" >&2; continue; fi
  cat >"$work/cfg.yaml" <<YAML
model_name_or_path: $gguf
template: $template
finetuning_type: lora
lora_target: all
dataset_dir: $work/data
cutoff_len: 256
per_device_train_batch_size: 2
gradient_accumulation_steps: 1
learning_rate: 1.0e-4
logging_steps: 1
do_train: true
do_eval: false
plot_loss: false
overwrite_output_dir: true
output_dir: $work/out
threads: $threads
YAML

  # ---- decode: tune (dequantized, kept) and llama.cpp, same file and threads ----
  llama_json="null"
  llama_cmd=""
  if [ -x "$llama_bench" ]; then
    llama_cmd="$llama_bench -m $gguf -p 0 -n 64 -t $threads -o jsonl"
    llama_json=$($llama_cmd 2>/dev/null | python3 -c 'import json,sys; r=json.loads(sys.stdin.readlines()[-1]); print(json.dumps({"avg_ts": r["avg_ts"], "stddev_ts": r["stddev_ts"], "n_threads": r["n_threads"], "build_commit": r.get("build_commit"), "type": r.get("model_type")}))')
  fi
  for mode in dequantized kept; do
    extra=($dequant_key)
    [ "$mode" = kept ] && extra=("$keep_key")
    cmd="$build/gguf_decode --new 64 $work/cfg.yaml do_train=false ${extra[*]}"
    if ours=$($cmd 2>"$work/err"); then
      record "$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); l=json.loads(sys.argv[2]);
print(json.dumps({"bench": "gguf_decode", "model": sys.argv[3], "mode": sys.argv[4], "threads": o["threads"],
  "tune_decode_tokens_per_s": o["decode_tokens_per_s"], "tune": o, "tune_command": sys.argv[5],
  "llama_cpp_decode_tokens_per_s": l["avg_ts"] if l else None, "llama_cpp": l, "llama_cpp_command": sys.argv[6],
  "tune_over_llama_cpp": round(o["decode_tokens_per_s"] / l["avg_ts"], 3) if l else None}))' \
        "$ours" "$llama_json" "$file" "$mode" "$cmd" "$llama_cmd")"
    else
      echo "bench: $cmd failed: $(tail -1 "$work/err")" >&2
      record "$(python3 -c 'import json,sys; print(json.dumps({"bench": "gguf_decode", "model": sys.argv[1], "mode": sys.argv[2], "skipped": sys.argv[3], "tune_command": sys.argv[4]}))' "$file" "$mode" "$(tail -1 "$work/err")" "$cmd")"
    fi
  done

  # ---- train: rm and sft, dequantized and kept ----
  [[ "$train_models" == *" $template "* ]] || continue
  for stage in rm sft; do
    dataset=age_bias
    [ "$stage" = sft ] && dataset=age_bias_sft
    for mode in dequantized kept; do
      extra=($dequant_key)
      [ "$mode" = kept ] && extra=("$keep_key")
      cmd="$tune train $work/cfg.yaml stage=$stage dataset=$dataset max_steps=$steps ${extra[*]}"
      if /usr/bin/time -v $cmd >"$work/log" 2>&1; then
        tps=$(sed -n 's/^throughput: \([0-9.]*\) tokens\/s.*/\1/p' "$work/log" | tail -1)
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$work/log")
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): \(.*\)/\1/p' "$work/log")
        loss=$(python3 -c 'import json,sys; h=[e for e in json.load(open(sys.argv[1]))["log_history"] if "loss" in e]; print(json.dumps([e["loss"] for e in h]))' "$work/out/trainer_state.json")
        record "{\"bench\": \"gguf_train\", \"model\": \"$file\", \"stage\": \"$stage\", \"mode\": \"$mode\", \"threads\": $threads, \"max_steps\": $steps, \"tokens_per_s\": $tps, \"peak_rss_mib\": $((rss / 1024)), \"wall\": \"$wall\", \"train_loss\": $loss, \"command\": \"$cmd\"}"
      else
        reason=$(grep -m1 '^error:' "$work/log" || tail -1 "$work/log")
        echo "bench: $cmd failed: $reason" >&2
        record "$(python3 -c 'import json,sys; print(json.dumps({"bench": "gguf_train", "model": sys.argv[1], "stage": sys.argv[2], "mode": sys.argv[3], "skipped": sys.argv[4], "command": sys.argv[5]}))' "$file" "$stage" "$mode" "$reason" "$cmd")"
      fi
    done
  done
done
echo "bench: results appended to $out" >&2
