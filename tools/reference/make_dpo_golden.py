#!/usr/bin/env python3
"""Generates the stage-dpo fixtures: per-pair preference losses, rewards, metrics and LoRA gradients for every
pref_loss (tests/data/dpo/<case>/), and 5-step DPO training trajectories (tests/data/trajectory/dpo_<loss>/), on the
tiny GQA Gemma, adapter and ranking data of tests/data/trajectory (made by make_trajectory_golden.py; not rewritten).

Run from the repository root with torch + transformers + peft (+ trl for its version record) and a built `tune`:
    python3 tools/reference/make_dpo_golden.py [--tune build/tune]
The losses are LLaMA-Factory's CustomDPOTrainer: TRL's DPO loss for sigmoid (with dpo_label_smoothing, TRL <= 0.11's
dpo_loss), hinge and ipo on log-probabilities summed over the answer tokens (ipo, orpo, simpo: averaged), LF's own
odds_ratio_loss (orpo) and simpo_loss (simpo), pref_ftx's -mean log-prob of the chosen answer, and the reference
model = the base with the adapter disabled (peft's disable_adapter). Gradients come from torch autograd through HF +
PEFT, so they check tune.cpp's hand-written backward.
"""
import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import peft
import safetensors
import torch
import torch.nn.functional as F
import transformers
import trl
from peft import PeftModel
from transformers import GemmaForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_golden import lora_params, save_tensors  # noqa: E402
from make_trajectory_golden import (COMMON, IGNORE, micro_batch_table, pad_rows, schedule_fn,  # noqa: E402
                                    yaml_value)

REPO = Path(__file__).resolve().parents[2]
TRAJ = REPO / "tests/data/trajectory"
PAD_ID = 0

# Pair-level cases: one batch of the first four ranking pairs. Betas differ per loss so each formula is exercised
# away from its trivial point.
PAIR_CASES = {
    "sigmoid": dict(pref_loss="sigmoid", pref_beta=0.1),
    "sigmoid_smooth_ftx": dict(pref_loss="sigmoid", pref_beta=0.25, dpo_label_smoothing=0.2, pref_ftx=0.3),
    "hinge": dict(pref_loss="hinge", pref_beta=0.02),
    "ipo": dict(pref_loss="ipo", pref_beta=0.5),
    "orpo": dict(pref_loss="orpo", pref_beta=0.2),
    "simpo": dict(pref_loss="simpo", pref_beta=2.0, simpo_gamma=0.5, pref_ftx=0.1),
}
PAIR_PLAN = dict(stage="dpo", do_train=False, do_eval=True, dataset="ranking", template="gemma", cutoff_len=64,
                 max_samples=4, per_device_eval_batch_size=4)
# Trajectories: the trajectory fixture's common settings (batch 2, GA 2, logging/saving every step) for 5 steps.
TRAJ_CASES = {
    "dpo_sigmoid": dict(stage="dpo", dataset="ranking", pref_loss="sigmoid", pref_beta=0.1, learning_rate=3.0e-3,
                        lr_scheduler_type="cosine", warmup_steps=1, max_grad_norm=0.6, max_steps=5),
    "dpo_orpo": dict(stage="dpo", dataset="ranking", pref_loss="orpo", pref_beta=0.1, learning_rate=3.0e-3,
                     lr_scheduler_type="linear", warmup_steps=1, max_grad_norm=1.0, max_steps=5),
}


def write_config(case_dir, name, plan, what):
    lines = [f"# DPO {what} fixture '{name}' (tools/reference/make_dpo_golden.py). Run from the repository root; the",
             "# golden test overrides the paths with absolute ones and output_dir with a temporary folder."]
    lines += [f"{k}: {yaml_value(v)}" for k, v in plan.items()]
    lines.append(f"output_dir: saves/dpo_golden/{name}")
    (case_dir / "config.yaml").write_text("\n".join(lines) + "\n")


def opt(plan, key, default):
    return plan.get(key, default)


def sequence_logps(logits, labels):
    """Σ over answer tokens of log softmax(logits)[label], and the token counts: [B], [B]."""
    labels = labels[:, 1:].clone()
    logits = logits[:, :-1, :]
    mask = labels != IGNORE
    labels[~mask] = 0
    per_token = torch.gather(logits.log_softmax(-1), 2, labels.unsqueeze(2)).squeeze(2)  # [B, T-1]
    return (per_token * mask).sum(-1), mask.sum(-1)


def preference_forward(model, batch, plan):
    """LF's get_batch_loss_metrics for one batch: per-pair losses and metrics (tensors)."""
    input_ids, attention_mask, labels = batch
    loss_type, beta = plan["pref_loss"], plan["pref_beta"]
    average = loss_type in ("ipo", "orpo", "simpo")
    n = input_ids.shape[0] // 2

    def logps_of(use_adapter):
        if use_adapter:
            logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
        else:
            with torch.no_grad(), model.disable_adapter():
                logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
        lp, length = sequence_logps(logits, labels)
        avg = lp / length
        return (avg if average else lp), lp / length, logits

    pol, pol_avg, logits = logps_of(True)
    chosen, rejected = pol[:n], pol[n:]
    chosen_avg = pol_avg[:n]
    if loss_type in ("sigmoid", "hinge", "ipo"):
        ref, _, _ = logps_of(False)
        ref_chosen, ref_rejected = ref[:n], ref[n:]
        z = (chosen - rejected) - (ref_chosen - ref_rejected)
        if loss_type == "sigmoid":
            ls = opt(plan, "dpo_label_smoothing", 0.0)
            losses = -F.logsigmoid(beta * z) * (1 - ls) - F.logsigmoid(-beta * z) * ls
        elif loss_type == "hinge":
            losses = torch.relu(1 - beta * z)
        else:
            losses = (z - 1 / (2 * beta)) ** 2
        chosen_rewards = beta * (chosen - ref_chosen).detach()
        rejected_rewards = beta * (rejected - ref_rejected).detach()
    else:
        ref_chosen = ref_rejected = torch.zeros_like(chosen)
        if loss_type == "orpo":
            log_odds = (chosen - rejected) - (torch.log1p(-torch.exp(chosen)) - torch.log1p(-torch.exp(rejected)))
            losses = -chosen + beta * -F.logsigmoid(log_odds)
        else:
            losses = -F.logsigmoid(beta * ((chosen - rejected) - opt(plan, "simpo_gamma", 0.5) / beta))
        chosen_rewards = beta * chosen.detach()
        rejected_rewards = beta * rejected.detach()
    sft_loss = -chosen_avg
    if opt(plan, "pref_ftx", 0.0) > 1e-6:
        losses = losses + plan["pref_ftx"] * sft_loss
    return dict(losses=losses, chosen=chosen, rejected=rejected, ref_chosen=ref_chosen, ref_rejected=ref_rejected,
                chosen_rewards=chosen_rewards, rejected_rewards=rejected_rewards, sft_loss=sft_loss,
                logits_chosen=logits[:n].mean(), logits_rejected=logits[n:].mean())


def collate(examples):
    rows = [e["chosen_input_ids"] for e in examples] + [e["rejected_input_ids"] for e in examples]
    label_rows = [e["chosen_labels"] for e in examples] + [e["rejected_labels"] for e in examples]
    return pad_rows(rows, PAD_ID, label_rows)


def load_policy():
    base = GemmaForCausalLM.from_pretrained(TRAJ / "model", attn_implementation="eager", dtype=torch.float32)
    model = PeftModel.from_pretrained(base, TRAJ / "adapter", is_trainable=True)
    model.eval()  # LF disables dropout for DPO (the adapter's lora_dropout is 0 anyway)
    return model


def tune_ids(tune, case_dir):
    ids_file = case_dir / "ids.jsonl"
    subprocess.run([str(tune), "data", str(case_dir / "config.yaml"), "--out", str(ids_file)], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return [json.loads(line) for line in ids_file.read_text().splitlines()]


def relative(sub):
    return str((TRAJ / sub).relative_to(REPO))


def versions():
    return {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
            "trl": trl.__version__, "safetensors": safetensors.__version__, "numpy": np.__version__}


def run_pair_case(name, tune, out):
    plan = {"model_name_or_path": relative("model"), "adapter_name_or_path": relative("adapter"),
            "dataset_dir": relative("data"), **PAIR_PLAN, **PAIR_CASES[name]}
    case_dir = out / name
    case_dir.mkdir(parents=True, exist_ok=True)
    write_config(case_dir, name, plan, "per-pair")
    examples = tune_ids(tune, case_dir)
    model = load_policy()
    r = preference_forward(model, collate(examples), plan)
    loss = r["losses"].mean()
    loss.backward()
    f64 = lambda t: t.detach().to(torch.float64).reshape(-1)  # noqa: E731
    expected = {k: f64(r[k]) for k in ("losses", "chosen", "rejected", "ref_chosen", "ref_rejected",
                                       "chosen_rewards", "rejected_rewards", "sft_loss", "logits_chosen",
                                       "logits_rejected")}
    expected["loss"] = f64(loss)
    for key, param in lora_params(model).items():
        assert param.grad is not None and param.grad.abs().max() > 0, f"{name}: no gradient for {key}"
        expected["grad." + key] = param.grad.detach().clone()
    save_tensors(expected, case_dir / "expected.safetensors")
    meta = {"case": name, "pairs": len(examples), "loss": loss.item(), "losses": r["losses"].tolist(),
            "versions": versions()}
    (case_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: loss {loss.item():.6f}, losses {[round(x, 5) for x in r['losses'].tolist()]}")


def train(plan, examples, model):
    """HF Trainer 4.38's loop as tune.cpp implements it (make_trajectory_golden.train), with LF's DPO loss."""
    n, bs, ga = len(examples), plan["per_device_train_batch_size"], plan["gradient_accumulation_steps"]
    batches_per_epoch = math.ceil(n / bs)
    updates_per_epoch = max(batches_per_epoch // ga, 1)
    max_steps = plan["max_steps"]
    epochs = math.ceil(max_steps / updates_per_epoch)
    warmup = plan.get("warmup_steps", 0)
    named = lora_params(model)
    optimizer = torch.optim.AdamW([{"params": list(named.values()), "weight_decay": plan["weight_decay"]}],
                                  lr=plan["learning_rate"], betas=(0.9, 0.999), eps=1e-8, foreach=False)
    scheduler = schedule_fn(plan["lr_scheduler_type"])(optimizer, warmup, max_steps)
    log = {k: [] for k in ("loss", "grad_norm", "learning_rate", "lr_used", "epoch", "micro_batches",
                           "rewards_chosen", "rewards_accuracies", "logps_rejected")}
    total_batched, global_step, tr_loss, window, metrics = 0, 0, 0.0, [], []
    optimizer.zero_grad()
    for epoch in range(epochs):
        order = np.random.default_rng(plan["seed"] + epoch).permutation(n).tolist()
        for step in range(batches_per_epoch):
            part = order[step * bs:(step + 1) * bs]
            r = preference_forward(model, collate([examples[i] for i in part]), plan)
            loss = r["losses"].mean()
            (loss / ga).backward()
            total_batched += 1
            tr_loss += loss.item() / ga
            window.append(part)
            metrics.append((r["chosen_rewards"].mean().item(),
                            (r["chosen_rewards"] > r["rejected_rewards"]).float().mean().item(),
                            r["rejected"].mean().item()))
            short_epoch_end = batches_per_epoch <= ga and step + 1 == batches_per_epoch
            if total_batched % ga != 0 and not short_epoch_end:
                continue
            grad_norm = torch.nn.utils.clip_grad_norm_(list(named.values()), plan["max_grad_norm"]).item()
            log["lr_used"].append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            global_step += 1
            log["loss"].append(tr_loss)
            log["grad_norm"].append(grad_norm)
            log["learning_rate"].append(scheduler.get_last_lr()[0])
            log["epoch"].append(epoch + (step + 1) / batches_per_epoch)
            log["micro_batches"].append(window)
            means = np.mean(np.array(metrics), axis=0)  # TRL's log: the mean of the stored micro-batch values
            log["rewards_chosen"].append(means[0])
            log["rewards_accuracies"].append(means[1])
            log["logps_rejected"].append(means[2])
            tr_loss, window, metrics = 0.0, [], []
            if global_step >= max_steps:
                return log
    return log


def run_trajectory_case(name, tune):
    plan = {"model_name_or_path": relative("model"), "adapter_name_or_path": relative("adapter"),
            "dataset_dir": relative("data"), **COMMON, **TRAJ_CASES[name]}
    plan.pop("value_head_dropout")
    case_dir = TRAJ / name
    case_dir.mkdir(parents=True, exist_ok=True)
    write_config(case_dir, name, plan, "trajectory")
    examples = tune_ids(tune, case_dir)
    model = load_policy()
    log = train(plan, examples, model)
    clipped = sum(g > plan["max_grad_norm"] for g in log["grad_norm"])
    assert 0 < clipped < len(log["grad_norm"]), f"{name}: max_grad_norm should clip some steps, not all: {log}"
    f64 = lambda key: torch.tensor(log[key], dtype=torch.float64)  # noqa: E731
    expected = {k: f64(k) for k in ("loss", "grad_norm", "learning_rate", "lr_used", "epoch", "rewards_chosen",
                                    "rewards_accuracies", "logps_rejected")}
    expected["train_loss"] = torch.tensor([sum(log["loss"]) / len(log["loss"])], dtype=torch.float64)
    expected["micro_batches"] = micro_batch_table(log["micro_batches"], plan["gradient_accumulation_steps"],
                                                  plan["per_device_train_batch_size"])
    for key, param in lora_params(model).items():
        expected["final." + key] = param.detach().clone()
    save_tensors(expected, case_dir / "expected.safetensors")
    meta = {"case": name, "steps": len(log["loss"]), "clipped_steps": clipped, "loss": log["loss"],
            "grad_norm": log["grad_norm"], "lr_used": log["lr_used"], "versions": versions()}
    (case_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: {len(log['loss'])} steps, {clipped} clipped, loss {log['loss'][0]:.5f} -> {log['loss'][-1]:.5f}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", type=Path, default=REPO / "build/tune", help="a built tune binary (for `tune data`)")
    parser.add_argument("--out", type=Path, default=REPO / "tests/data/dpo")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in PAIR_CASES:
        run_pair_case(name, args.tune.resolve(), out)
    for name in TRAJ_CASES:
        run_trajectory_case(name, args.tune.resolve())


if __name__ == "__main__":
    main(sys.argv[1:])
