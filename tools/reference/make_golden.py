#!/usr/bin/env python3
"""Generates the HF transformers + PEFT golden fixtures (tiny random Gemma-1 models) in tests/data/golden.

Run with the reference venv (see tools/reference/README.md):
    /work/refenv/bin/python tools/reference/make_golden.py [--out tests/data/golden]
Everything runs on the CPU in fp32 with eager attention and fixed seeds, so the output is reproducible.
"""
import argparse
import dataclasses
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import peft
import safetensors
import safetensors.torch
import torch
import torch.nn.functional as F
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import GemmaConfig, GemmaForCausalLM

BATCH = 4
SEQ = 11
PAD_ID = 0
BOS_ID = 2
FIRST_REAL_ID = 3  # real tokens are drawn from [3, vocab)
IGNORE = -100
PAIRS = [(0, 2), (1, 3)]  # (chosen row, rejected row) for the reward loss
NORM_STD = 0.1  # RMSNorm offsets w (effective scale 1 + w)
LORA_A_STD = 0.1
LORA_B_STD = 0.05
ALL_PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclasses.dataclass(frozen=True)
class FixtureSpec:
    name: str
    seed: int
    config: dict  # GemmaConfig kwargs
    lora: dict  # LoraConfig kwargs
    exact_gelu: bool
    max_shard_size: str | None  # None: single model.safetensors
    lengths: tuple  # real tokens per row (bos included), right padded to SEQ
    prompt_lengths: tuple  # leading tokens per row whose labels are -100
    purpose: str


SPECS = [
    FixtureSpec(
        name="mqa",
        seed=1234,
        config=dict(vocab_size=320, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=1, head_dim=16, intermediate_size=128, hidden_act="gelu_pytorch_tanh",
                    rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, rms_norm_eps=1e-6,
                    tie_word_embeddings=True, max_position_embeddings=64),
        lora=dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=ALL_PROJ),
        exact_gelu=False,
        max_shard_size=None,
        lengths=(11, 7, 9, 5),
        prompt_lengths=(4, 3, 5, 2),
        purpose="MQA (1 kv head), tanh GELU, LoRA r=4 alpha=8 on all 7 projections (list target_modules), "
                "single-file model.safetensors.",
    ),
    FixtureSpec(
        name="gqa",
        seed=5678,
        config=dict(vocab_size=300, hidden_size=48, num_hidden_layers=3, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, intermediate_size=96, hidden_act="gelu_pytorch_tanh",
                    rope_parameters={"rope_type": "default", "rope_theta": 500.0}, rms_norm_eps=1e-6,
                    tie_word_embeddings=True, max_position_embeddings=64),
        lora=dict(r=4, lora_alpha=6, lora_dropout=0.0, target_modules=r".*\.(q_proj|v_proj|o_proj|down_proj)",
                  use_rslora=True, rank_pattern={"down_proj": 2}, alpha_pattern={"o_proj": 3}),
        exact_gelu=True,
        max_shard_size="150KB",
        lengths=(8, 11, 6, 10),
        prompt_lengths=(3, 4, 2, 5),
        purpose="GQA (2 kv heads), heads*head_dim (64) != hidden (48), rope_theta 500, exact erf GELU, "
                "regex target_modules on q/v/o/down, rslora, rank_pattern down_proj=2, alpha_pattern o_proj=3, "
                "sharded model checkpoint.",
    ),
]


def use_exact_gelu(model):
    """Replaces every decoder layer's MLP activation with exact erf GELU (what HF 4.38 ran for hidden_act "gelu")."""
    for layer in model.model.layers:
        layer.mlp.act_fn = torch.nn.GELU()


def build_base_model(spec, gen):
    """A GemmaForCausalLM with seeded weights scaled so activations stay O(1) and attention is far from uniform."""
    config = GemmaConfig(**spec.config, attn_implementation="eager", dtype="float32")
    model = GemmaForCausalLM(config).to(torch.float32)
    hidden = config.hidden_size
    with torch.no_grad():
        for name, param in model.named_parameters():  # tied lm_head is the same tensor as embed_tokens
            if name.endswith("norm.weight"):
                std = NORM_STD
            elif name == "model.embed_tokens.weight":
                std = 1.0 / math.sqrt(hidden)
            else:  # nn.Linear weight [out, in]
                std = 1.0 / math.sqrt(param.shape[1])
            param.copy_(torch.randn(param.shape, generator=gen) * std)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr(), "embeddings not tied"
    return model


def randomize_lora(peft_model, gen):
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if ".lora_A." in name:
                param.copy_(torch.randn(param.shape, generator=gen) * LORA_A_STD)
            elif ".lora_B." in name:
                param.copy_(torch.randn(param.shape, generator=gen) * LORA_B_STD)


def lora_params(peft_model):
    """{PEFT saved key: parameter} — saved keys drop the adapter name ".default"."""
    out = {}
    for name, param in peft_model.named_parameters():
        if "lora_" in name:
            out[name.replace(".default", "")] = param
    return out


def make_inputs(spec, gen):
    vocab = spec.config["vocab_size"]
    input_ids = torch.full((BATCH, SEQ), PAD_ID, dtype=torch.long)  # [B, T]
    attention_mask = torch.zeros((BATCH, SEQ), dtype=torch.long)  # [B, T]
    labels = torch.full((BATCH, SEQ), IGNORE, dtype=torch.long)  # [B, T]
    for row, (length, prompt) in enumerate(zip(spec.lengths, spec.prompt_lengths)):
        assert 1 < prompt < length <= SEQ
        input_ids[row, 0] = BOS_ID
        input_ids[row, 1:length] = torch.randint(FIRST_REAL_ID, vocab, (length - 1,), generator=gen)
        attention_mask[row, :length] = 1
        labels[row, prompt:length] = input_ids[row, prompt:length]
    assert SEQ in spec.lengths, "one row must be full length"
    return input_ids, attention_mask, labels


def last_token_index(attention_mask):
    return attention_mask.sum(dim=1) - 1  # [B]; right padding


def reward_loss(values, attention_mask):
    last = last_token_index(attention_mask)
    rows = torch.arange(values.shape[0])
    end_values = values[rows, last]  # [B]
    chosen = torch.tensor([c for c, _ in PAIRS])
    rejected = torch.tensor([r for _, r in PAIRS])
    return -F.logsigmoid(end_values[chosen] - end_values[rejected]).mean()


def manual_lm_loss(logits, labels):
    shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1]).float()
    shift_labels = labels[:, 1:].reshape(-1)
    return F.cross_entropy(shift_logits, shift_labels, ignore_index=IGNORE, reduction="mean")


def compute_expected(peft_model, value_head, input_ids, attention_mask, labels):
    peft_model.train()
    value_head.train()
    params = lora_params(peft_model)
    expected = {}

    # Forward without labels: logits and the reward-model values, then the reward loss backward.
    peft_model.zero_grad(set_to_none=True)
    value_head.zero_grad(set_to_none=True)
    out = peft_model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    logits = out.logits  # [B, T, V]
    final_hidden = out.hidden_states[-1]  # [B, T, H], after model.norm
    lm_head = peft_model.get_base_model().lm_head
    torch.testing.assert_close(lm_head(final_hidden), logits, rtol=0, atol=0,
                               msg="hidden_states[-1] is not the final-normed hidden state")
    values = value_head(final_hidden).squeeze(-1)  # [B, T]
    rm_loss = reward_loss(values, attention_mask)
    rm_loss.backward()
    expected["logits"] = logits.detach().clone()
    expected["values"] = values.detach().clone()
    expected["rm_loss"] = rm_loss.detach().reshape(1).clone()
    for key, param in params.items():
        expected[f"rm_grad.{key}"] = param.grad.detach().clone()
    expected["rm_grad.v_head.summary.weight"] = value_head.weight.grad.detach().clone()  # [1, H]
    expected["rm_grad.v_head.summary.bias"] = value_head.bias.grad.detach().clone()  # [1]

    # Forward with labels: HF's causal-LM loss, then its backward.
    peft_model.zero_grad(set_to_none=True)
    value_head.zero_grad(set_to_none=True)
    out = peft_model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    torch.testing.assert_close(out.logits, logits, rtol=0, atol=0)
    torch.testing.assert_close(out.loss, manual_lm_loss(logits, labels), rtol=1e-6, atol=1e-6)
    out.loss.backward()
    expected["lm_loss"] = out.loss.detach().reshape(1).clone()
    for key, param in params.items():
        assert param.grad is not None and param.grad.abs().max() > 0, f"no LM gradient reaches {key}"
        expected[f"lm_grad.{key}"] = param.grad.detach().clone()
    return expected


def lora_scalings(peft_model):
    """{module name: {"r": r, "scaling": s}} as PEFT resolved them (rank/alpha patterns, rslora)."""
    out = {}
    for name, module in peft_model.base_model.model.named_modules():
        if hasattr(module, "scaling") and "default" in getattr(module, "r", {}):
            out[name] = {"r": module.r["default"], "scaling": module.scaling["default"]}
    return out


def verify_reload(spec, model_dir, adapter_dir, expected_logits, input_ids, attention_mask):
    base = GemmaForCausalLM.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32)
    if spec.exact_gelu:
        use_exact_gelu(base)
    reloaded = PeftModel.from_pretrained(base, adapter_dir)
    reloaded.train()
    with torch.no_grad():
        logits = reloaded(input_ids=input_ids, attention_mask=attention_mask).logits
    torch.testing.assert_close(logits, expected_logits, rtol=1e-6, atol=1e-6,
                               msg=f"{spec.name}: reloaded model + adapter do not reproduce the logits")


def tidy_adapter_dir(adapter_dir):
    """Drops PEFT's boilerplate model card and sorts target_modules (PEFT writes a set in hash order)."""
    readme = adapter_dir / "README.md"
    if readme.exists():
        readme.unlink()
    config_path = adapter_dir / "adapter_config.json"
    config = json.loads(config_path.read_text())
    if isinstance(config["target_modules"], list):
        config["target_modules"] = sorted(config["target_modules"])
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True))  # PEFT's own formatting


def save_tensors(tensors, path):
    safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"})


def generate(spec, out_root):
    torch.manual_seed(spec.seed)
    np.random.seed(spec.seed)
    gen = torch.Generator().manual_seed(spec.seed)
    out_dir = out_root / spec.name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model_dir = out_dir / "model"
    adapter_dir = out_dir / "adapter"

    base = build_base_model(spec, gen)
    shard_args = {"max_shard_size": spec.max_shard_size} if spec.max_shard_size else {}
    base.save_pretrained(model_dir, **shard_args)
    if spec.max_shard_size:
        shards = sorted(model_dir.glob("model-*-of-*.safetensors"))
        assert len(shards) >= 2 and (model_dir / "model.safetensors.index.json").exists(), "model is not sharded"
    if spec.exact_gelu:
        use_exact_gelu(base)

    lora_config = LoraConfig(task_type="CAUSAL_LM", **spec.lora)
    peft_model = get_peft_model(base, lora_config)
    randomize_lora(peft_model, gen)
    value_head = torch.nn.Linear(spec.config["hidden_size"], 1).to(torch.float32)  # nn.Linear default init
    with torch.no_grad():
        bound = 1.0 / math.sqrt(spec.config["hidden_size"])
        value_head.weight.copy_(torch.empty_like(value_head.weight).uniform_(-bound, bound, generator=gen))
        value_head.bias.copy_(torch.empty_like(value_head.bias).uniform_(-bound, bound, generator=gen))

    input_ids, attention_mask, labels = make_inputs(spec, gen)
    expected = compute_expected(peft_model, value_head, input_ids, attention_mask, labels)

    peft_model.save_pretrained(adapter_dir)
    tidy_adapter_dir(adapter_dir)
    saved_keys = set(safetensors.safe_open(str(adapter_dir / "adapter_model.safetensors"), "pt").keys())
    assert saved_keys == set(lora_params(peft_model)), "gradient keys differ from PEFT's saved adapter keys"
    save_tensors({"v_head.summary.weight": value_head.weight.detach(),  # [1, H]
                  "v_head.summary.bias": value_head.bias.detach()},  # [1]
                 adapter_dir / "value_head.safetensors")

    verify_reload(spec, model_dir, adapter_dir, expected["logits"], input_ids, attention_mask)

    save_tensors({"input_ids": input_ids.to(torch.int32), "attention_mask": attention_mask.to(torch.int32),
                  "labels": labels.to(torch.int32)}, out_dir / "inputs.safetensors")
    save_tensors(expected, out_dir / "expected.safetensors")
    meta = {
        "name": spec.name,
        "purpose": spec.purpose,
        "exact_gelu": spec.exact_gelu,
        "reward_pairs": [{"chosen": c, "rejected": r} for c, r in PAIRS],
        "padding_side": "right",
        "pad_token_id": PAD_ID,
        "bos_token_id": BOS_ID,
        "lengths": list(spec.lengths),
        "prompt_lengths": list(spec.prompt_lengths),
        "lora_modules": lora_scalings(peft_model),
        "seed": spec.seed,
        "init": {"norm_std": NORM_STD, "lora_A_std": LORA_A_STD, "lora_B_std": LORA_B_STD},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "peft": peft.__version__, "safetensors": safetensors.__version__},
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(f"{spec.name}: lm_loss={expected['lm_loss'].item():.6f} rm_loss={expected['rm_loss'].item():.6f} "
          f"-> {out_dir}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "tests/data/golden")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # fixed reduction order
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in SPECS:
        generate(spec, args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
