#!/usr/bin/env python3
"""Generates the optimizer fixtures in tests/data/optim: torch AdamW + HF schedules + clip_grad_norm_ + GradScaler.

Run with the reference venv (see tools/reference/README.md):
    /work/refenv/bin/python tools/reference/make_optim_golden.py [--out tests/data/optim]
Everything runs on the CPU in fp32 with fixed seeds (one thread), so the output is reproducible.

Each case file replays what HF Trainer 4.38 does per optimizer update on a few small LoRA-like tensors with random
gradients: two AdamW param groups (names without "bias" decay, the rest use weight_decay 0), the lr from the HF
LambdaLR schedule (update k uses lambda(k - 1)), clip_grad_norm_ over all grads (when max_grad_norm > 0; otherwise
only the total norm is recorded), optimizer.step(), scheduler.step().
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch
import transformers
from transformers import optimization as hf_opt

# PEFT-style names and shapes in model parameter order (layer, projection, A then B), then the value head.
# Sizes are deliberately not multiples of the SIMD width so vector tails are covered.
PARAMS = [
    ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", (4, 24)),
    ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", (20, 4)),
    ("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight", (4, 37)),
    ("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight", (24, 4)),
    ("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", (2, 24)),
    ("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", (9, 2)),
    ("v_head.summary.weight", (1, 24)),
    ("v_head.summary.bias", (1,)),
]

# name, lr_scheduler_type, learning_rate, warmup_steps, warmup_ratio, weight_decay, max_grad_norm, steps, seed
CASES = [
    ("cosine_wd", "cosine", 5e-3, 0, 0.1, 0.01, 1.0, 10, 11),
    ("linear", "linear", 2e-3, 0, 0.0, 0.0, 1.0, 10, 22),
    ("constant_with_warmup", "constant_with_warmup", 3e-3, 3, 0.0, 0.05, 0.5, 10, 33),
    ("constant_noclip", "constant", 1e-3, 0, 0.0, 0.01, 0.0, 10, 44),
]
BETAS = (0.9, 0.999)
EPS = 1e-8


def hf438_warmup_steps(warmup_steps, warmup_ratio, num_training_steps):
    # TrainingArguments.get_warmup_steps in 4.38.
    return warmup_steps if warmup_steps > 0 else math.ceil(num_training_steps * warmup_ratio)


def make_scheduler(kind, optimizer, warmup, total):
    if kind == "cosine":
        return hf_opt.get_cosine_schedule_with_warmup(optimizer, warmup, total)
    if kind == "linear":
        return hf_opt.get_linear_schedule_with_warmup(optimizer, warmup, total)
    if kind == "constant_with_warmup":
        return hf_opt.get_constant_schedule_with_warmup(optimizer, warmup)
    if kind == "constant":
        return hf_opt.get_constant_schedule(optimizer)
    raise ValueError(kind)


def run_case(name, kind, lr, warmup_steps, warmup_ratio, wd, max_grad_norm, steps, seed):
    gen = torch.Generator().manual_seed(seed)
    params = []
    for pname, shape in PARAMS:
        std = 0.05 if "lora_B" in pname else 0.2
        params.append(torch.nn.Parameter(torch.randn(shape, generator=gen) * std))
    out = {}
    for (pname, _), p in zip(PARAMS, params):
        out[f"init.{pname}"] = p.detach().clone()

    decay = [p for (pname, _), p in zip(PARAMS, params) if "bias" not in pname]
    no_decay = [p for (pname, _), p in zip(PARAMS, params) if "bias" in pname]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=lr, betas=BETAS, eps=EPS, foreach=False)
    total = steps
    warmup = hf438_warmup_steps(warmup_steps, warmup_ratio, total)
    scheduler = make_scheduler(kind, optimizer, warmup, total)

    lrs, norms = [], []
    for k in range(1, steps + 1):
        # Gradient scale varies per step so the total norm falls on both sides of max_grad_norm.
        scale = math.exp(torch.empty(()).uniform_(math.log(0.005), math.log(0.2), generator=gen).item())
        for (pname, shape), p in zip(PARAMS, params):
            p.grad = torch.randn(shape, generator=gen) * scale
            out[f"step{k}.grad.{pname}"] = p.grad.clone()
        lrs.append(optimizer.param_groups[0]["lr"])
        assert optimizer.param_groups[1]["lr"] == lrs[-1]
        if max_grad_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        norms.append(norm.reshape(1))
        for (pname, _), p in zip(PARAMS, params):
            out[f"step{k}.clipped.{pname}"] = p.grad.clone()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        for (pname, _), p in zip(PARAMS, params):
            out[f"step{k}.param.{pname}"] = p.detach().clone()

    for (pname, _), p in zip(PARAMS, params):
        state = optimizer.state[p]
        assert state["step"].item() == steps
        out[f"final.exp_avg.{pname}"] = state["exp_avg"].clone()
        out[f"final.exp_avg_sq.{pname}"] = state["exp_avg_sq"].clone()

    out["lr"] = torch.tensor(lrs, dtype=torch.float64)  # [steps] lr used by update k (index k - 1)
    out["grad_norm"] = torch.cat(norms)  # [steps] pre-clip total norm, F32
    # The schedule's lr for scheduler steps 0 .. total + 2 (past the end too), straight from the HF lambda.
    lam = scheduler.lr_lambdas[0]
    out["schedule_lr"] = torch.tensor([lr * lam(s) for s in range(total + 3)], dtype=torch.float64)
    meta = {
        "format": "pt",
        "lr_scheduler_type": kind,
        "learning_rate": repr(lr),
        "warmup_steps": str(warmup_steps),
        "warmup_ratio": repr(warmup_ratio),
        "resolved_warmup_steps": str(warmup),
        "weight_decay": repr(wd),
        "max_grad_norm": repr(max_grad_norm),
        "adam_beta1": repr(BETAS[0]),
        "adam_beta2": repr(BETAS[1]),
        "adam_epsilon": repr(EPS),
        "steps": str(steps),
        "params": ",".join(n for n, _ in PARAMS),
        "versions": f"torch {torch.__version__}, transformers {transformers.__version__}",
    }
    return out, meta


# Loss-scaler sequence: found_inf flags fed to torch._amp_update_scale_ with a short growth interval.
SCALER_FLAGS = [0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
SCALER_GROWTH_INTERVAL = 3


def scaler_case():
    scale = torch.full((), 2.0 ** 16, dtype=torch.float32)
    tracker = torch.full((), 0, dtype=torch.int32)
    scales, trackers = [], []
    for flag in SCALER_FLAGS:
        found_inf = torch.full((), float(flag), dtype=torch.float32)
        torch._amp_update_scale_(scale, tracker, found_inf, 2.0, 0.5, SCALER_GROWTH_INTERVAL)
        scales.append(scale.item())
        trackers.append(tracker.item())
    # Unscale with GradScaler's inverse (reciprocal in fp64, then fp32) on finite and non-finite grads.
    gen = torch.Generator().manual_seed(55)
    unscale_scale = torch.full((), 3.0 * 2.0 ** 14, dtype=torch.float32)  # not a power of two: rounding matters
    inv = unscale_scale.double().reciprocal().float()
    finite = torch.randn(13, generator=gen) * 1000
    nonfinite = finite.clone()
    nonfinite[5] = float("inf")
    outs = {}
    for tag, g in (("finite", finite), ("nonfinite", nonfinite)):
        found = torch.zeros((), dtype=torch.float32)
        u = g.clone()
        torch._amp_foreach_non_finite_check_and_unscale_([u], found, inv)
        outs[f"unscale.{tag}.in"] = g
        outs[f"unscale.{tag}.out"] = u
        outs[f"unscale.{tag}.found_inf"] = found.reshape(1)
    outs["flags"] = torch.tensor(SCALER_FLAGS, dtype=torch.int32)
    outs["scale"] = torch.tensor(scales, dtype=torch.float32)
    outs["growth_tracker"] = torch.tensor(trackers, dtype=torch.int32)
    meta = {"format": "pt", "init_scale": repr(2.0 ** 16), "growth_factor": "2.0", "backoff_factor": "0.5",
            "growth_interval": str(SCALER_GROWTH_INTERVAL), "unscale_scale": repr(unscale_scale.item()),
            "versions": f"torch {torch.__version__}"}
    return outs, meta


def save(path, tensors, meta):
    blob = safetensors.torch.save({k: v.contiguous() for k, v in tensors.items()}, metadata=meta)
    path.write_bytes(sort_metadata(blob))
    # Round trip: what we wrote is what we computed.
    with safetensors.safe_open(str(path), "pt") as f:
        for k, v in tensors.items():
            assert torch.equal(f.get_tensor(k), v), k


def sort_metadata(blob):
    """safetensors writes __metadata__ from a hash map (random key order); sort it so reruns are byte-identical."""
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= n, "sorted header grew"
    return blob[:8] + text + b" " * (n - len(text)) + blob[8 + n:]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "tests/data/optim"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        tensors, meta = run_case(*case)
        save(out_dir / f"{case[0]}.safetensors", tensors, meta)
        print(f"{case[0]}: lr {[float(x) for x in tensors['lr']]}")
        print(f"  grad_norm {tensors['grad_norm'].tolist()}")
    tensors, meta = scaler_case()
    save(out_dir / "scaler.safetensors", tensors, meta)
    print(f"scaler: scale {tensors['scale'].tolist()}")
    print(f"        tracker {tensors['growth_tracker'].tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
