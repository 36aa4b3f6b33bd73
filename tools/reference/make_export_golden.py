#!/usr/bin/env python3
"""Generates the merge/export fixtures in tests/data/export: PEFT merge_and_unload of LoRA adapters into a tiny random
Gemma-1 model stored as fp32, bf16 and fp16, one adapter and two chained adapters, plus HF's shard index.

Run with the reference venv (see tools/reference/README.md):
    /work/refenv/bin/python tools/reference/make_export_golden.py [--out tests/data/export]
"""
import argparse
import copy
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import peft
import safetensors
import safetensors.torch
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import GemmaConfig, GemmaForCausalLM

SEED = 4321
CONFIG = dict(vocab_size=48, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
              head_dim=8, intermediate_size=48, hidden_act="gelu_pytorch_tanh",
              rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, rms_norm_eps=1e-6,
              tie_word_embeddings=True, max_position_embeddings=64)
# adapter_a: every projection, plain scaling 2. adapter_b (merged after a): regex targets, rslora, rank and alpha
# patterns -> scalings q/v 6/sqrt(4) = 3, o 3/sqrt(4) = 1.5, down 6/sqrt(2).
ADAPTERS = {
    "adapter_a": dict(r=4, lora_alpha=8, lora_dropout=0.0,
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
    "adapter_b": dict(r=4, lora_alpha=6, lora_dropout=0.0, target_modules=r".*\.(q_proj|v_proj|o_proj|down_proj)",
                      use_rslora=True, rank_pattern={"down_proj": 2}, alpha_pattern={"o_proj": 3}),
}
DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}
NORM_STD = 0.1
LORA_A_STD = 0.1
LORA_B_STD = 0.05
SHARD_SIZE = "20KB"  # HF's index for the fp32 a+b merge at this max_shard_size (several shards)


def build_base(gen):
    model = GemmaForCausalLM(GemmaConfig(**CONFIG, dtype="float32")).to(torch.float32)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight"):
                std = NORM_STD
            elif name == "model.embed_tokens.weight":
                std = 1.0 / math.sqrt(CONFIG["hidden_size"])
            else:  # nn.Linear weight [out, in]
                std = 1.0 / math.sqrt(param.shape[1])
            param.copy_(torch.randn(param.shape, generator=gen) * std)
    return model


def make_adapter(base, lora_kwargs, gen, out_dir):
    peft_model = get_peft_model(copy.deepcopy(base), LoraConfig(task_type="CAUSAL_LM", **lora_kwargs))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():  # non-zero B, so the merge changes every target
            if ".lora_A." in name:
                param.copy_(torch.randn(param.shape, generator=gen) * LORA_A_STD)
            elif ".lora_B." in name:
                param.copy_(torch.randn(param.shape, generator=gen) * LORA_B_STD)
    peft_model.save_pretrained(out_dir)
    (out_dir / "README.md").unlink(missing_ok=True)
    config_path = out_dir / "adapter_config.json"
    config = json.loads(config_path.read_text())
    if isinstance(config["target_modules"], list):
        config["target_modules"] = sorted(config["target_modules"])
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True))


def merge(model, adapter_dir):
    """LLaMA-Factory's export step for one adapter: PeftModel.from_pretrained, then merge_and_unload."""
    return PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()


def weights_of(model):
    """A copy of the state dict save_pretrained writes: no tied lm_head.weight."""
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}


def save_tensors(tensors, path):
    safetensors.torch.save_file(tensors, str(path), metadata={"format": "pt"})


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "tests/data/export")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    expected_dir = args.out / "expected"
    expected_dir.mkdir()

    gen = torch.Generator().manual_seed(SEED)
    base = build_base(gen)
    for name, lora_kwargs in ADAPTERS.items():
        make_adapter(base, lora_kwargs, gen, args.out / name)

    stats = {}
    for tag, dtype in DTYPES.items():
        model_dir = args.out / f"model_{tag}"
        copy.deepcopy(base).to(dtype).save_pretrained(model_dir)
        (model_dir / "generation_config.json").unlink(missing_ok=True)  # the export derives one from config.json
        loaded = GemmaForCausalLM.from_pretrained(model_dir, dtype=dtype)
        before = weights_of(loaded)
        assert all(t.dtype == dtype for t in before.values())
        merged_a = merge(loaded, args.out / "adapter_a")
        after_a = weights_of(merged_a)
        save_tensors(after_a, expected_dir / f"{tag}_a.safetensors")
        merged_ab = merge(merged_a, args.out / "adapter_b")
        after_ab = weights_of(merged_ab)
        save_tensors(after_ab, expected_dir / f"{tag}_ab.safetensors")
        assert all(t.dtype == dtype for t in after_ab.values())
        changed_a = sum(int((after_a[k] != before[k]).sum()) for k in before)
        changed_b = sum(int((after_ab[k] != after_a[k]).sum()) for k in before)
        assert changed_a > 10000 and changed_b > 4000, (changed_a, changed_b)
        stats[tag] = {"elements_changed_by_a": changed_a, "elements_changed_by_b": changed_b}
        if tag == "f32":
            with tempfile.TemporaryDirectory() as tmp:
                merged_ab.save_pretrained(tmp, max_shard_size=SHARD_SIZE)
                index = Path(tmp) / "model.safetensors.index.json"
                assert index.exists(), "the fp32 merge is not sharded at " + SHARD_SIZE
                shutil.copy(index, expected_dir / "f32_ab_sharded.index.json")
                stats[tag]["shards"] = len(list(Path(tmp).glob("model-*-of-*.safetensors")))

    meta = {
        "config": CONFIG,
        "adapters": ADAPTERS,
        "seed": SEED,
        "init": {"norm_std": NORM_STD, "lora_A_std": LORA_A_STD, "lora_B_std": LORA_B_STD},
        "shard_size": SHARD_SIZE,
        "stats": stats,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "peft": peft.__version__, "safetensors": safetensors.__version__},
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(stats))


if __name__ == "__main__":
    main(sys.argv[1:])
