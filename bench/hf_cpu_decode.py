#!/usr/bin/env python3
"""PyTorch side of the CPU generation benchmark: HF `generate` (greedy, KV cache) on the Gemma shape of
bench/cpu_decode.cpp, without an adapter and with an unmerged PEFT LoRA on every projection.

Run with the reference venv (tools/reference/README.md), e.g.
    /work/refenv/bin/python bench/hf_cpu_decode.py --threads 1
Prints one JSON line per case, keyed like cpu_decode's. Random weights, nothing is downloaded.
Prefill rate = prompt tokens / time of generate(max_new_tokens=1); decode rate = (NEW - 1) / (time of
generate(max_new_tokens=NEW) - that time). Medians of 3 runs.
"""
import argparse
import json
import statistics
import sys
import time

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import GemmaConfig, GemmaForCausalLM

HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, INTERMEDIATE, VOCAB = 512, 8, 8, 1, 64, 2048, 32000
PROMPT, NEW, LORA_R = 128, 128, 8
ALL_PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def timed_generate(model, ids, new_tokens):
    start = time.perf_counter()
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                         max_new_tokens=new_tokens, min_new_tokens=new_tokens, eos_token_id=None, pad_token_id=0)
    assert out.shape[1] == ids.shape[1] + new_tokens
    return time.perf_counter() - start


def measure(model, ids):
    timed_generate(model, ids, 4)  # warm-up
    prefill, decode = [], []
    for _ in range(3):
        t1 = timed_generate(model, ids, 1)
        tn = timed_generate(model, ids, NEW)
        prefill.append(PROMPT / t1)
        decode.append((NEW - 1) / (tn - t1))
    return statistics.median(prefill), statistics.median(decode)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    config = GemmaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                         num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM, intermediate_size=INTERMEDIATE,
                         hidden_act="gelu_pytorch_tanh", max_position_embeddings=PROMPT + NEW,
                         tie_word_embeddings=True, dtype="float32")
    base = GemmaForCausalLM(config).to(torch.float32).eval()
    ids = torch.tensor([[3 + (i * 7919) % (VOCAB - 3) for i in range(PROMPT)]])  # [1, PROMPT], cpu_decode's prompt
    engine = f"torch {torch.__version__} + transformers {transformers.__version__} + peft {peft.__version__}"
    with torch.inference_mode():
        cases = [("none", base)]
        lora = get_peft_model(base, LoraConfig(task_type="CAUSAL_LM", r=LORA_R, lora_alpha=2 * LORA_R,
                                               target_modules=ALL_PROJ, init_lora_weights=False)).eval()
        cases.append(("branch", lora))
        for name, model in cases:
            prefill, decode = measure(model, ids)
            print(json.dumps({"bench": "hf_cpu_decode", "engine": engine, "lora": name, "threads": args.threads,
                              "hidden": HIDDEN, "layers": LAYERS, "vocab": VOCAB, "prompt": PROMPT, "new": NEW,
                              "prefill_tokens_per_s": round(prefill, 1), "decode_tokens_per_s": round(decode, 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
