#!/usr/bin/env bash
# Two "hosts" on one machine: a network namespace joined to this one by a veth pair (10.213.7.1 here, 10.213.7.2
# there, the project's own test addresses), and one 2-rank `tune train` job across them over TCP (OpenMPI's tcp
# transport only; mpirun starts the remote rank through an rsh agent that enters the namespace instead of ssh). The
# job must equal one process with twice the accumulation bit for bit (adapter, value head, eval loss). Needs root
# (ip netns) and build/tune. Cleans up the namespace and the veth pair on exit.
# usage: tools/dist_two_hosts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build="${TUNE_BUILD_DIR:-build}"
ns=tune_host2_$$
work=$(mktemp -d)
cleanup() {
  ip link del "tv$$a" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "tv$$a" type veth peer name "tv$$b"
ip link set "tv$$b" netns "$ns"
ip addr add 10.213.7.1/24 dev "tv$$a"
ip link set "tv$$a" up
ip netns exec "$ns" ip addr add 10.213.7.2/24 dev "tv$$b"
ip netns exec "$ns" ip link set "tv$$b" up
ip netns exec "$ns" ip link set lo up
cat >"$work/rsh" <<AGENT
#!/bin/sh
host="\$1"; shift
case "\$host" in
  10.213.7.2) exec ip netns exec $ns sh -c "\$*" ;;
  *) exec sh -c "\$*" ;;
esac
AGENT
chmod +x "$work/rsh"

"$build/tune" new-model "$work/model" --vocab 2000 --hidden 64 --intermediate 256 --layers 2 --heads 4 --kv-heads 1 \
  --head-dim 16 --seed 0 >/dev/null
cp examples/age_bias/model/tokenizer.model examples/age_bias/model/*.json "$work/model/"
cfg=(examples/age_bias/rm_lora.yaml "model_name_or_path=$work/model" max_steps=4 logging_steps=1 eval_steps=2
     threads=1 overwrite_output_dir=true per_device_train_batch_size=2 lora_dropout=0.1 plot_loss=false)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --mca plm_rsh_agent "$work/rsh" --host 10.213.7.1:1,10.213.7.2:1 -np 2 --bind-to none \
  --mca btl tcp,self --mca btl_tcp_if_include 10.213.7.0/24 --mca oob_tcp_if_include 10.213.7.0/24 \
  sh -c 'echo "rank $OMPI_COMM_WORLD_RANK on $(ip -o -4 addr show | grep -o "10\.213\.7\.[0-9]")"'
mpirun --mca plm_rsh_agent "$work/rsh" --host 10.213.7.1:1,10.213.7.2:1 -np 2 --bind-to none \
  --mca btl tcp,self --mca btl_tcp_if_include 10.213.7.0/24 --mca oob_tcp_if_include 10.213.7.0/24 \
  "$build/tune" train "${cfg[@]}" "output_dir=$work/two_hosts" gradient_accumulation_steps=2 >"$work/two.log" 2>&1 \
  || { tail -30 "$work/two.log"; exit 1; }
grep throughput "$work/two.log"
"$build/tune" train "${cfg[@]}" "output_dir=$work/one" gradient_accumulation_steps=4 >"$work/one.log" 2>&1 \
  || { tail -30 "$work/one.log"; exit 1; }
cmp "$work/one/adapter_model.safetensors" "$work/two_hosts/adapter_model.safetensors"
cmp "$work/one/value_head.safetensors" "$work/two_hosts/value_head.safetensors"
loss() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['eval_loss'])" "$1"; }
[ "$(loss "$work/one/eval_results.json")" = "$(loss "$work/two_hosts/eval_results.json")" ]
echo "two hosts over TCP: adapter, value head and eval loss equal one process with 2x accumulation bit for bit"
