#!/usr/bin/env python3
"""transformers fixtures for the two real GGUF models -> tests/data/gguf_model/<name>/.

    python3 tools/reference/make_gguf_model_golden.py [--gguf-dir ~/.cache/tune/gguf] [--out tests/data/gguf_model]

Per model (scripts/fetch_models.sh fetches both): transformers loads the GGUF with `gguf_file=` (its loader
dequantizes with the gguf package, un-permutes llama Q/K rows and subtracts 1 from Gemma norm weights) in fp32,
eager attention, CPU. Written:
- config.json: the config transformers derives from the GGUF metadata (what tune's GGUF mapping must reproduce);
- expected.json: for 3 prompts (a plain text, a chat prompt by the model's template (Gemma 3's by hand: its GGUF stores none), and one of LONG_TOKENS tokens,
  longer than Gemma 3's 512-token sliding window) the input ids; every position's argmax and max logit; the logits
  of VOCAB_SUBSET fixed random vocab ids at the stored positions (all for the short prompts, every LONG_STRIDE-th
  and the last LONG_TAIL of the long one); HF generate's greedy continuation of GEN_NEW tokens (stopping at eos like
  generate does); and the same logits subset and argmax with the PEFT adapter below, on the two short prompts;
- adapter/: a PEFT LoRA adapter (r 4, alpha 8, all seven projections, A by PEFT's init, B drawn nonzero from a fixed
  seed), every value rounded to bf16 so the bf16 file is exact and small.
Deterministic: fixed seeds, fp32, 2 threads (the reductions do not depend on the count beyond rounding noise far
below the 1e-4 tolerance).
"""
import argparse
import json
import os
from pathlib import Path

import numpy as np
import peft
import safetensors.torch
import torch
import transformers
from peft import LoraConfig, get_peft_model

MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}
ALL_PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
VOCAB_SUBSET = 256
LONG_TOKENS = 560
LONG_STRIDE = 16
LONG_TAIL = 16
GEN_NEW = 20
LORA_SEED = 1234
LORA_B_STD = 0.02
PLAIN = "The capital of France is"
CHAT = [{"role": "user", "content": "What is the capital of France?"}]
GEMMA_CHAT = "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n"
LONG_TEXT = ("In the valley below the old mountain road, the river turns twice before it reaches the town. "
             "Farmers bring apples, cheese and bread to the market every Saturday, and the children count the "
             "boats that pass under the stone bridge. ")


def f32(x):
    return [float(np.float32(v)) for v in x]


def prompts(tok):
    plain = tok(PLAIN)["input_ids"]
    if tok.chat_template:
        chat = tok.apply_chat_template(CHAT, add_generation_prompt=True, tokenize=True)
        if hasattr(chat, "keys"):
            chat = chat["input_ids"]
    else:  # the Gemma 3 GGUF stores no template: LLaMA-Factory's gemma3 template (bos added by the tokenizer)
        chat = tok(GEMMA_CHAT)["input_ids"]
    long_ids = tok(LONG_TEXT * 40)["input_ids"][:LONG_TOKENS]
    assert len(long_ids) == LONG_TOKENS, len(long_ids)
    return [("plain", list(plain), None), ("chat", list(chat), None), ("long", list(long_ids), LONG_STRIDE)]


def positions_of(T, stride):
    if stride is None:
        return list(range(T))
    return [t for t in range(T) if t % stride == 0 or t >= T - LONG_TAIL]


@torch.no_grad()
def logits_record(model, ids, vocab_ids, stride):
    out = model(torch.tensor([ids])).logits[0].float()  # [T, V]
    pos = positions_of(len(ids), stride)
    sub = out[pos][:, vocab_ids]  # [P, S]
    return {
        "argmax": out.argmax(-1).tolist(),
        "max_logit": f32(out.max(-1).values.tolist()),
        "positions": pos,
        "subset_logits": [f32(row) for row in sub.tolist()],
    }


@torch.no_grad()
def greedy(model, ids, eos_id, pad_id):
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=GEN_NEW, do_sample=False, num_beams=1, repetition_penalty=1.0,
                         eos_token_id=eos_id, pad_token_id=pad_id)
    return out[0, len(ids):].tolist()


def make_adapter(model, out_dir):
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=ALL_PROJ, bias="none",
                     task_type="CAUSAL_LM")
    torch.manual_seed(LORA_SEED)
    pm = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(LORA_SEED)
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * LORA_B_STD)
            if "lora_" in name:
                p.copy_(p.to(torch.bfloat16).float())  # exact in the bf16 file
    pm.save_pretrained(out_dir)
    (out_dir / "README.md").unlink(missing_ok=True)  # PEFT's model card template
    f = out_dir / "adapter_model.safetensors"
    tensors = safetensors.torch.load_file(f)
    safetensors.torch.save_file({k: v.to(torch.bfloat16) for k, v in tensors.items()}, f)
    pm.eval()
    return pm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf-dir", default=os.environ.get("TUNE_GGUF_DIR", str(Path.home() / ".cache/tune/gguf")))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "tests/data/gguf_model"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    for name, file in MODELS.items():
        out_dir = Path(args.out) / name
        out_dir.mkdir(parents=True, exist_ok=True)
        tok = transformers.AutoTokenizer.from_pretrained(args.gguf_dir, gguf_file=file)
        model = transformers.AutoModelForCausalLM.from_pretrained(args.gguf_dir, gguf_file=file,
                                                                  dtype=torch.float32, attn_implementation="eager")
        model.eval()
        (out_dir / "config.json").write_text(model.config.to_json_string())
        V = model.config.vocab_size
        vocab_ids = sorted(np.random.default_rng(7).choice(V, VOCAB_SUBSET, replace=False).tolist())
        eos_id, pad_id = model.config.eos_token_id, model.config.pad_token_id
        records = []
        for label, ids, stride in prompts(tok):
            rec = {"label": label, "input_ids": ids}
            rec.update(logits_record(model, ids, vocab_ids, stride))
            rec["greedy"] = greedy(model, ids, eos_id, pad_id)
            print(name, label, len(ids), "greedy:", repr(tok.decode(rec["greedy"])))
            records.append(rec)
        pm = make_adapter(model, out_dir / "adapter")
        for rec in records:
            if rec["label"] == "long":
                continue
            lr = logits_record(pm, rec["input_ids"], vocab_ids, None)
            rec["peft"] = {"argmax": lr["argmax"], "subset_logits": lr["subset_logits"]}
        expected = {
            "gguf_file": file,
            "generator": f"transformers {transformers.__version__}, peft {peft.__version__}, torch {torch.__version__}",
            "eos_token_id": eos_id,
            "vocab_subset": vocab_ids,
            "prompts": records,
        }
        (out_dir / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
