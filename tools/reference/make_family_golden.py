#!/usr/bin/env python3
"""HF transformers + PEFT golden fixtures for the non-Gemma-1 families -> tests/data/golden/<family>/ and
tests/data/generate/<family>.json.

    python3 tools/reference/make_family_golden.py [--golden tests/data/golden] [--generate tests/data/generate]

Per family: a tiny random model (3 layers, sliding window 4 < the sequence where the family has one, soft-capping at
values that bend the scores where the family has it, biased projections, QK-norm, untied heads, llama3 / linear RoPE
scaling) saved with save_pretrained; a LoRA adapter (r 4, alpha 8) on every projection ("lora_target: all") with
random A and B; a right-padded batch with prompt labels -100; the logits, the causal-LM loss and every LoRA gradient
of a forward/backward in train mode (dropout 0). Then greedy `generate` continuations like make_generate_golden.py:
base and unmerged-adapter models, with and without repetition_penalty, 5 prompts each, no eos. For the families in
MERGED, also PEFT merge_and_unload's state dict (merged.safetensors; a tied lm_head left out, as save_pretrained does).
CPU, fp32, eager attention, one thread, fixed seeds: the output is deterministic.
"""
import argparse
import copy
import json
import math
import shutil
import sys
from pathlib import Path

import peft
import safetensors
import safetensors.torch
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model

BATCH = 3
SEQ = 11
LENGTHS = (11, 7, 9)
PROMPT_LENGTHS = (4, 3, 5)
BOS_ID = 2
PAD_ID = 0
FIRST_REAL_ID = 3
IGNORE = -100
NORM_STD = 0.1
LORA_A_STD = 0.1
LORA_B_STD = 0.05
ALL_PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
GEN_PROMPT_LENGTHS = [1, 4, 9, 17, 33]
GEN_NEW = 24
GEN_PENALTY = 3.0
MERGED = ("llama", "gemma3_text")  # export = merge_and_unload fixtures: untied head + biases; QK-norm + 4 norms

COMMON = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
              num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-6, max_position_embeddings=64,
              pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=1)

FAMILIES = {
    "llama": dict(
        seed=101, cls="LlamaForCausalLM", config_cls="LlamaConfig",
        config=dict(COMMON, hidden_act="silu", attention_bias=True, tie_word_embeddings=False,
                    rope_parameters={"rope_type": "llama3", "rope_theta": 500.0, "factor": 8.0,
                                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                     "original_max_position_embeddings": 256}),
        purpose="Llama: w-RMSNorm, SiLU, attention_bias (q/k/v/o biases), untied lm_head, llama3 RoPE scaling with "
                "one frequency in each band (kept, blended, divided)."),
    "mistral": dict(
        seed=202, cls="MistralForCausalLM", config_cls="MistralConfig",
        config=dict(COMMON, hidden_act="silu", tie_word_embeddings=False, sliding_window=4,
                    rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        purpose="Mistral: Llama's block with sliding_window 4 on every layer (sequence 11), untied head."),
    "qwen2": dict(
        seed=303, cls="Qwen2ForCausalLM", config_cls="Qwen2Config",
        config=dict(COMMON, hidden_act="silu", tie_word_embeddings=True,
                    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        purpose="Qwen2: q/k/v biases (no o bias), tied head, rope_theta 1e6."),
    "qwen3": dict(
        seed=404, cls="Qwen3ForCausalLM", config_cls="Qwen3Config",
        config=dict(COMMON, hidden_act="silu", tie_word_embeddings=False,
                    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        purpose="Qwen3: w-RMSNorm QK-norm over head_dim before RoPE, untied head."),
    "gemma2": dict(
        seed=505, cls="Gemma2ForCausalLM", config_cls="Gemma2Config",
        config=dict(COMMON, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, sliding_window=4,
                    query_pre_attn_scalar=12, attn_logit_softcapping=2.0, final_logit_softcapping=3.0,
                    rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        purpose="Gemma 2: (1+w) norms before and after attention and MLP, sqrt(H) embedding scale, scores scaled by "
                "query_pre_attn_scalar 12 and soft-capped at 2, final logits soft-capped at 3, sliding window 4 on "
                "layers 0 and 2."),
    "gemma3_text": dict(
        seed=606, cls="Gemma3ForCausalLM", config_cls="Gemma3TextConfig",
        config=dict(COMMON, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, sliding_window=4,
                    query_pre_attn_scalar=8, sliding_window_pattern=2,
                    rope_parameters={"full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 1e6},
                                     "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}),
        purpose="Gemma 3 text: Gemma 2's norms plus a (1+w) QK-norm, sliding window 4 on layers 0 and 2 with RoPE "
                "theta 1e4, the global layer with theta 1e6 and linear scaling 4, no soft-capping."),
    "gemma3": dict(
        seed=707, cls="Gemma3ForConditionalGeneration", config_cls="Gemma3Config",
        config=dict(text_config=dict(COMMON, hidden_activation="gelu_pytorch_tanh", sliding_window=4,
                                     query_pre_attn_scalar=8, sliding_window_pattern=2),
                    vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                       num_attention_heads=2, image_size=28, patch_size=14),
                    mm_tokens_per_image=4, boi_token_index=125, eoi_token_index=126, image_token_index=127),
        # LLaMA-Factory's target for a multimodal model with a frozen vision tower: every projection outside it.
        target_modules=r"^(?!.*(?:vision_tower|multi_modal_projector)).*(?:q_proj|k_proj|v_proj|o_proj|gate_proj|"
                       r"up_proj|down_proj).*",
        purpose="Gemma 3 multimodal checkpoint (tiny SigLIP vision tower, unused): the text config nested under "
                "text_config, weights stored as language_model.model.*, LoRA modules named "
                "model.language_model.layers.N, LLaMA-Factory's regex that leaves the vision tower out."),
}


def build_model(spec, gen):
    config = getattr(transformers, spec["config_cls"])(**spec["config"], attn_implementation="eager",
                                                       dtype="float32")
    model = getattr(transformers, spec["cls"])(config).to(torch.float32)
    gemma_norm = spec["cls"].startswith("Gemma")
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight"):  # (1+w) offsets for Gemma, scales near 1 for the others
                param.copy_(torch.randn(param.shape, generator=gen) * NORM_STD + (0.0 if gemma_norm else 1.0))
            elif name.endswith(".bias"):
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
            elif "embed_tokens" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * (1.0 / math.sqrt(config.get_text_config().hidden_size)))
            elif param.dim() >= 2:  # nn.Linear weight [out, in], lm_head included
                param.copy_(torch.randn(param.shape, generator=gen) * (1.0 / math.sqrt(param.shape[1])))
            else:  # the vision tower's other 1-D parameters (unused by the text forward)
                param.copy_(torch.randn(param.shape, generator=gen) * 0.1)
    return model


def make_inputs(vocab, gen):
    input_ids = torch.full((BATCH, SEQ), PAD_ID, dtype=torch.long)
    attention_mask = torch.zeros((BATCH, SEQ), dtype=torch.long)
    labels = torch.full((BATCH, SEQ), IGNORE, dtype=torch.long)
    for row, (length, prompt) in enumerate(zip(LENGTHS, PROMPT_LENGTHS)):
        input_ids[row, 0] = BOS_ID
        input_ids[row, 1:length] = torch.randint(FIRST_REAL_ID, vocab, (length - 1,), generator=gen)
        attention_mask[row, :length] = 1
        labels[row, prompt:length] = input_ids[row, prompt:length]
    return input_ids, attention_mask, labels


def lora_params(peft_model):
    return {name.replace(".default", ""): p for name, p in peft_model.named_parameters() if "lora_" in name}


def save_tensors(tensors, path):
    safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"})


def tidy_adapter_dir(adapter_dir):
    (adapter_dir / "README.md").unlink(missing_ok=True)
    path = adapter_dir / "adapter_config.json"
    config = json.loads(path.read_text())
    if isinstance(config["target_modules"], list):
        config["target_modules"] = sorted(config["target_modules"])
    path.write_text(json.dumps(config, indent=2, sort_keys=True))


def greedy(model, prompt, penalty):
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=GEN_NEW, min_new_tokens=GEN_NEW, repetition_penalty=penalty,
                             output_logits=True, return_dict_in_generate=True)
    new = out.sequences[0, len(prompt):].tolist()
    assert len(new) == GEN_NEW
    margin = min((s[0].topk(2).values[0] - s[0].topk(2).values[1]).item() for s in out.logits)
    return new, margin


def generate_cases(spec, model_dir, adapter_dir, seed):
    cls = getattr(transformers, spec["cls"])
    vocab = spec["config"].get("vocab_size") or spec["config"]["text_config"]["vocab_size"]
    gen = torch.Generator().manual_seed(seed)
    prompts = [[BOS_ID] + torch.randint(FIRST_REAL_ID, vocab, (n - 1,), generator=gen).tolist()
               for n in GEN_PROMPT_LENGTHS]
    cases = []
    for variant, with_adapter, penalty in (("base", False, 1.0), ("base_penalty", False, GEN_PENALTY),
                                           ("adapter", True, 1.0), ("adapter_penalty", True, GEN_PENALTY)):
        model = cls.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32)
        if with_adapter:
            model = PeftModel.from_pretrained(model, adapter_dir)
        model.eval()
        model.generation_config.eos_token_id = None
        model.generation_config.pad_token_id = PAD_ID
        for prompt in prompts:
            new, margin = greedy(model, prompt, penalty)
            cases.append({"variant": variant, "repetition_penalty": penalty, "prompt": prompt, "generated": new,
                          "min_margin": margin})
    return cases


def make_family(name, spec, golden_root, generate_root):
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"])
    out_dir = golden_root / name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model_dir, adapter_dir = out_dir / "model", out_dir / "adapter"
    base = build_model(spec, gen)
    base.save_pretrained(model_dir)
    peft_model = get_peft_model(base, LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, lora_dropout=0.0,
                                                 target_modules=spec.get("target_modules", ALL_PROJ)))
    with torch.no_grad():
        for pname, p in peft_model.named_parameters():
            if ".lora_A." in pname:
                p.copy_(torch.randn(p.shape, generator=gen) * LORA_A_STD)
            elif ".lora_B." in pname:
                p.copy_(torch.randn(p.shape, generator=gen) * LORA_B_STD)
    vocab = spec["config"].get("vocab_size") or spec["config"]["text_config"]["vocab_size"]
    input_ids, attention_mask, labels = make_inputs(vocab, gen)

    peft_model.train()
    params = lora_params(peft_model)
    out = peft_model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    out.loss.backward()
    expected = {"logits": out.logits.detach().clone(), "lm_loss": out.loss.detach().reshape(1).clone()}
    for key, p in params.items():
        assert p.grad is not None and p.grad.abs().max() > 0, f"no gradient reaches {key}"
        expected[f"lm_grad.{key}"] = p.grad.detach().clone()

    peft_model.save_pretrained(adapter_dir)
    tidy_adapter_dir(adapter_dir)
    # Reload check: the saved model + adapter reproduce the logits.
    cls = getattr(transformers, spec["cls"])
    reloaded = PeftModel.from_pretrained(cls.from_pretrained(model_dir, attn_implementation="eager",
                                                             dtype=torch.float32), adapter_dir)
    reloaded.train()
    with torch.no_grad():
        again = reloaded(input_ids=input_ids, attention_mask=attention_mask).logits
    torch.testing.assert_close(again, expected["logits"], rtol=1e-6, atol=1e-6)
    if name in MERGED:
        merged = PeftModel.from_pretrained(cls.from_pretrained(model_dir, dtype=torch.float32),
                                           adapter_dir).merge_and_unload()
        state = {k: v.detach().clone() for k, v in merged.state_dict().items()}
        if merged.config.tie_word_embeddings:
            state.pop("lm_head.weight")
        save_tensors(state, out_dir / "merged.safetensors")

    save_tensors({"input_ids": input_ids.to(torch.int32), "attention_mask": attention_mask.to(torch.int32),
                  "labels": labels.to(torch.int32)}, out_dir / "inputs.safetensors")
    save_tensors(expected, out_dir / "expected.safetensors")
    meta = {"name": name, "purpose": spec["purpose"], "seed": spec["seed"], "padding_side": "right",
            "lengths": list(LENGTHS), "prompt_lengths": list(PROMPT_LENGTHS), "lora": {"r": 4, "alpha": 8,
            "target_modules": spec.get("target_modules", ALL_PROJ)},
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "peft": peft.__version__}}
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    cases = generate_cases(spec, model_dir, adapter_dir, spec["seed"] + 1)
    doc = {"model": name,
           "purpose": "HF generate(do_sample=False) token ids of the golden model without ('base') and with the "
                      "unmerged PEFT adapter ('adapter'), '_penalty' with repetition_penalty; no eos, so each "
                      "continuation has max_new_tokens ids; min_margin = smallest top-1/top-2 logit gap",
           "max_new_tokens": GEN_NEW, "cases": cases,
           "versions": meta["versions"]}
    (generate_root / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{name}: lm_loss={out.loss.item():.6f}, {len(cases)} continuations, smallest logit gap "
          f"{min(c['min_margin'] for c in cases):.3g}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--golden", type=Path, default=root / "tests/data/golden")
    parser.add_argument("--generate", type=Path, default=root / "tests/data/generate")
    parser.add_argument("--only", nargs="*", default=None, help="families to make (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    args.golden.mkdir(parents=True, exist_ok=True)
    args.generate.mkdir(parents=True, exist_ok=True)
    for name, spec in FAMILIES.items():
        if args.only is None or name in args.only:
            make_family(name, spec, args.golden, args.generate)


if __name__ == "__main__":
    main(sys.argv[1:])
