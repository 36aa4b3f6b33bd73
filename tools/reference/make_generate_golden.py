#!/usr/bin/env python3
"""Greedy HF `generate` continuations of the golden tiny models (tests/data/golden/{mqa,gqa}) -> tests/data/generate.

Run with the reference venv (see tools/reference/README.md):
    /work/refenv/bin/python tools/reference/make_generate_golden.py [--out tests/data/generate]
For each model, a few prompts of token ids (bos + random ids, different lengths) are continued with
`generate(do_sample=False, max_new_tokens=NEW)` by the base model ("base") and by the unmerged PeftModel with the
golden adapter ("adapter"), each also with repetition_penalty PENALTY ("base_penalty", "adapter_penalty"): random tiny
models tend to repeat one token, and the penalty makes them wander through the vocabulary. No eos is set, so every
continuation has exactly NEW tokens. CPU, fp32, eager attention, fixed seeds.
"""
import argparse
import json
import sys
from pathlib import Path

import peft
import torch
import transformers
from peft import PeftModel
from transformers import GemmaForCausalLM

MODELS = {"mqa": 4321, "gqa": 8765}  # name -> seed of its prompts
PROMPT_LENGTHS = [1, 4, 9, 17, 33]  # bos included; 33 + NEW stays inside max_position_embeddings (64)
NEW = 24
PENALTY = 3.0
BOS_ID = 2
FIRST_REAL_ID = 3


def load(golden_dir, with_adapter):
    meta = json.loads((golden_dir / "meta.json").read_text())
    model = GemmaForCausalLM.from_pretrained(golden_dir / "model", attn_implementation="eager", dtype=torch.float32)
    if meta["exact_gelu"]:
        for layer in model.model.layers:  # as make_golden.py: HF 4.38's erf GELU
            layer.mlp.act_fn = torch.nn.GELU()
    if with_adapter:
        model = PeftModel.from_pretrained(model, golden_dir / "adapter")
    model.eval()
    model.generation_config.eos_token_id = None  # run every continuation to NEW tokens
    model.generation_config.pad_token_id = 0
    return model


def continue_greedy(model, prompt, penalty):
    input_ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False,
                             max_new_tokens=NEW, min_new_tokens=NEW, repetition_penalty=penalty, output_logits=True, return_dict_in_generate=True)
    new = out.sequences[0, len(prompt):].tolist()
    assert len(new) == NEW, f"expected {NEW} new tokens, got {len(new)}"
    # The smallest gap between the chosen and the runner-up logit over the steps: how far from a tie greedy was.
    margin = min((step[0].topk(2).values[0] - step[0].topk(2).values[1]).item() for step in out.logits)
    return new, margin


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--golden", type=Path, default=root / "tests/data/golden")
    parser.add_argument("--out", type=Path, default=root / "tests/data/generate")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, seed in MODELS.items():
        golden_dir = args.golden / name
        vocab = json.loads((golden_dir / "model/config.json").read_text())["vocab_size"]
        gen = torch.Generator().manual_seed(seed)
        prompts = [[BOS_ID] + torch.randint(FIRST_REAL_ID, vocab, (n - 1,), generator=gen).tolist()
                   for n in PROMPT_LENGTHS]
        cases = []
        for variant, with_adapter, penalty in (("base", False, 1.0), ("base_penalty", False, PENALTY),
                                               ("adapter", True, 1.0), ("adapter_penalty", True, PENALTY)):
            model = load(golden_dir, with_adapter)
            for prompt in prompts:
                new, margin = continue_greedy(model, prompt, penalty)
                cases.append({"variant": variant, "repetition_penalty": penalty, "prompt": prompt, "generated": new,
                              "min_margin": margin})
        doc = {
            "model": name,
            "purpose": "HF generate(do_sample=False) token ids of the golden model without ('base') and with the "
                       "unmerged PEFT adapter ('adapter'), '_penalty' with repetition_penalty; no eos, "
                       "so each continuation has max_new_tokens ids; min_margin = smallest top-1/top-2 logit gap",
            "max_new_tokens": NEW,
            "cases": cases,
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "peft": peft.__version__},
        }
        (args.out / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        worst = min(c["min_margin"] for c in cases)
        print(f"{name}: {len(cases)} continuations, smallest top-1/top-2 logit gap {worst:.3g} -> {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
