#!/usr/bin/env python3
"""PyTorch side of the CPU benchmark: forward + backward of the causal-LM loss of a Gemma-shaped model with LoRA.

Run with the reference venv (tools/reference/README.md), e.g.
    /work/refenv/bin/python bench/hf_cpu_bench.py --threads 2 --iters 5
Prints one JSON line. Random weights, nothing is downloaded.
"""
import argparse
import json
import shlex
import statistics
import sys
import time

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import GemmaConfig, GemmaForCausalLM

HIDDEN = 512
LAYERS = 8
HEADS = 8
KV_HEADS = 1
HEAD_DIM = 64
INTERMEDIATE = 2048
VOCAB = 32000
SEQ = 256
BATCH = 1
LORA_R = 8
LORA_ALPHA = 16
WARMUP = 2
ALL_PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def build_model():
    config = GemmaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                         num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM, intermediate_size=INTERMEDIATE,
                         hidden_act="gelu_pytorch_tanh", max_position_embeddings=SEQ, tie_word_embeddings=True,
                         attn_implementation="eager", dtype="float32")
    base = GemmaForCausalLM(config).to(torch.float32)
    lora = LoraConfig(task_type="CAUSAL_LM", r=LORA_R, lora_alpha=LORA_ALPHA, lora_dropout=0.0,
                      target_modules=ALL_PROJ)
    model = get_peft_model(base, lora)
    model.train()
    return model


def step(model, ids):
    model.zero_grad(set_to_none=True)
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--iters", type=int, default=5, help="timed iterations; the median is reported (default 5)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.iters < 1:
        parser.error("--threads and --iters must be >= 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    model = build_model()
    ids = torch.randint(3, VOCAB, (BATCH, SEQ))  # [B, T]

    for _ in range(WARMUP):
        step(model, ids)
    seconds = []
    for _ in range(args.iters):
        start = time.perf_counter()
        step(model, ids)
        seconds.append(time.perf_counter() - start)
    median_s = statistics.median(seconds)

    result = {
        "bench": "hf_peft_cpu_fwd_bwd",
        "engine": f"torch {torch.__version__} + transformers {transformers.__version__} + peft {peft.__version__}",
        "threads": args.threads,
        "hidden": HIDDEN,
        "layers": LAYERS,
        "vocab": VOCAB,
        "seq": SEQ,
        "batch": BATCH,
        "lora_r": LORA_R,
        "tokens_per_s": round(BATCH * SEQ / median_s, 2),
        "ms_per_step": round(median_s * 1000.0, 2),
        "command": shlex.join([sys.executable, *sys.argv]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
