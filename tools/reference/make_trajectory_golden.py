#!/usr/bin/env python3
"""Generates the training-trajectory fixtures in tests/data/trajectory: an HF transformers + PEFT training loop
(HF Trainer 4.38 semantics, as tune.cpp's trainer implements them) on a tiny Gemma with a real tokenizer.

Run from the repository root with the reference venv and a built `tune` (see tools/reference/README.md):
    /work/refenv/bin/python tools/reference/make_trajectory_golden.py [--tune build/tune] [--out tests/data/trajectory]
The token ids come from `tune data` (tokenizer/template parity is tested elsewhere), so the fixture pins the training
math: micro-batches, accumulation, losses, clipping, AdamW, the schedule and the logged values.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
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
from transformers import GemmaForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_golden import (ALL_PROJ, FixtureSpec, build_base_model, lora_params, randomize_lora,  # noqa: E402
                         save_tensors, tidy_adapter_dir)

REPO = Path(__file__).resolve().parents[2]
TOKENIZER_DIR = REPO / "tests/data/tokenizer"
TOKENIZER_FILES = ["tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]
IGNORE = -100
PAD_TO_MULTIPLE_OF = 8  # LLaMA-Factory's collators, right padding
SEED = 2024

MODEL = FixtureSpec(
    name="trajectory",
    seed=SEED,
    config=dict(vocab_size=1200, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, head_dim=8, intermediate_size=64, hidden_act="gelu_pytorch_tanh",
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, rms_norm_eps=1e-6,
                tie_word_embeddings=True, max_position_embeddings=128, pad_token_id=0, bos_token_id=2,
                eos_token_id=1),
    lora=dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=ALL_PROJ),
    exact_gelu=False,
    max_shard_size=None,
    lengths=(),
    prompt_lengths=(),
    purpose="tiny GQA Gemma with the 1200-piece test tokenizer, for training trajectories",
)

# Nine examples: with micro-batch 2 an epoch has 5 micro-batches (the last with one example), so with GA 2 each epoch
# leaves a tail micro-batch that HF 4.38 carries into the next epoch's first update.
RANKING = [
    ("Is the sky blue?", "", "Yes, on a clear day it is blue.", "No."),
    ("Pick a color", "for a house", "Blue is calm and clean.", "Purple!!!"),
    ("Say yes or no.", "", "Yes.", "Yes. Or maybe no, it depends on many things."),
    ("Name a fruit", "", "An apple.", "A car is a fruit that you can drive to work."),
    ("What is two plus two?", "", "Two plus two is four.", "Five."),
    ("Describe the river", "in the capital city", "The river is long and the water is clean.", "Rivers are wet."),
    ("Give me a number", "between one and ten", "Seven.", "Eleven, because it is bigger."),
    ("Where do fish live?", "", "Fish live in water: rivers, lakes and the sea.", "In trees."),
    ("Is fire cold?", "", "No, fire is hot.", "Yes, very cold."),
]
SFT = [
    ("Is the sky blue?", "", "Yes, on a clear day it is blue."),
    ("Pick a color", "for a house", "Blue is calm and clean."),
    ("Say hello", "", "Hello!"),
    ("Name a fruit", "", "An apple, a pear or a plum."),
    ("What is two plus two?", "", "Two plus two is four."),
    ("Describe the river", "in the capital city", "The river is long and the water is clean, so people walk there."),
    ("Give me a number", "between one and ten", "Seven."),
    ("Where do fish live?", "", "Fish live in water: rivers, lakes and the sea."),
    ("Is fire cold?", "", "No, fire is hot."),
]

COMMON = dict(
    do_train=True,
    finetuning_type="lora",
    template="gemma",
    cutoff_len=64,
    overwrite_output_dir=True,
    logging_steps=1,
    save_steps=1,
    per_device_train_batch_size=2,
    per_device_eval_batch_size=2,
    gradient_accumulation_steps=2,
    num_train_epochs=3.0,
    weight_decay=0.1,
    seed=42,
    value_head_dropout=0.0,
)
# max_grad_norm sits between the smallest and largest pre-clip norms of each run, so some steps are clipped.
CASES = {
    "rm_per_token": dict(stage="rm", dataset="ranking", rm_loss="per_token", learning_rate=3.0e-3,
                         lr_scheduler_type="cosine", warmup_steps=2, max_grad_norm=1.0),
    "rm_last_token": dict(stage="rm", dataset="ranking", rm_loss="last_token", learning_rate=3.0e-3,
                          lr_scheduler_type="linear", warmup_ratio=0.2, max_grad_norm=0.8),
    "sft": dict(stage="sft", dataset="sft", learning_rate=3.0e-3, lr_scheduler_type="cosine", warmup_steps=1,
                max_grad_norm=0.65),
}


# ---------------------------------------------------------------------------------------------------------------
# Fixture files: model + tokenizer, starting adapter + value head, datasets, configs


def write_model_and_adapter(out):
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    model_dir, adapter_dir = out / "model", out / "adapter"
    base = build_base_model(MODEL, gen)
    base.save_pretrained(model_dir)
    (model_dir / "generation_config.json").unlink(missing_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copyfile(TOKENIZER_DIR / name, model_dir / name)
    peft_model = get_peft_model(base, LoraConfig(task_type="CAUSAL_LM", **MODEL.lora))
    randomize_lora(peft_model, gen)  # B != 0, so every LoRA tensor gets a gradient from the first step
    peft_model.save_pretrained(adapter_dir)
    tidy_adapter_dir(adapter_dir)
    hidden = MODEL.config["hidden_size"]
    bound = 1.0 / math.sqrt(hidden)
    save_tensors({"v_head.summary.weight": torch.empty(1, hidden).uniform_(-bound, bound, generator=gen),  # [1, H]
                  "v_head.summary.bias": torch.empty(1).uniform_(-bound, bound, generator=gen)},  # [1]
                 adapter_dir / "value_head.safetensors")


def write_datasets(out):
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    ranking = [{"instruction": p, "input": q, "output": [c, r]} for p, q, c, r in RANKING]
    sft = [{"instruction": p, "input": q, "output": a} for p, q, a in SFT]
    (data_dir / "ranking.json").write_text(json.dumps(ranking, indent=1) + "\n")
    (data_dir / "sft.json").write_text(json.dumps(sft, indent=1) + "\n")
    columns = {"prompt": "instruction", "query": "input", "response": "output"}
    info = {"ranking": {"file_name": "ranking.json", "ranking": True, "columns": columns},
            "sft": {"file_name": "sft.json", "columns": columns}}
    (data_dir / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n")


def yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def write_config(case_dir, name, plan):
    lines = [f"# Trajectory fixture '{name}' (tools/reference/make_trajectory_golden.py). Run from the repository root;",
             "# the golden test overrides the paths with absolute ones and output_dir with a temporary folder."]
    lines += [f"{k}: {yaml_value(v)}" for k, v in plan.items()]
    lines.append(f"output_dir: saves/trajectory/{name}")
    (case_dir / "config.yaml").write_text("\n".join(lines) + "\n")


def token_ids(tune, case_dir):
    ids_file = case_dir / "ids.jsonl"
    subprocess.run([str(tune), "data", str(case_dir / "config.yaml"), "--out", str(ids_file)], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return [json.loads(line) for line in ids_file.read_text().splitlines()]


# ---------------------------------------------------------------------------------------------------------------
# Collators (LLaMA-Factory: right padding to a multiple of 8; pairwise rows all chosen, then all rejected)


def padded_length(longest):
    return (longest + PAD_TO_MULTIPLE_OF - 1) // PAD_TO_MULTIPLE_OF * PAD_TO_MULTIPLE_OF


def pad_rows(rows, pad_id, label_rows=None):
    T = padded_length(max(len(r) for r in rows))
    input_ids = torch.full((len(rows), T), pad_id, dtype=torch.long)  # [B, T]
    attention_mask = torch.zeros((len(rows), T), dtype=torch.long)  # [B, T]
    labels = torch.full((len(rows), T), IGNORE, dtype=torch.long)  # [B, T]
    for b, row in enumerate(rows):
        input_ids[b, :len(row)] = torch.tensor(row)
        attention_mask[b, :len(row)] = 1
        if label_rows is not None:
            labels[b, :len(row)] = torch.tensor(label_rows[b])
    return input_ids, attention_mask, labels


def collate(stage, examples, pad_id):
    if stage == "rm":
        rows = [e["chosen_input_ids"] for e in examples] + [e["rejected_input_ids"] for e in examples]
        return pad_rows(rows, pad_id)
    return pad_rows([e["input_ids"] for e in examples], pad_id, [e["labels"] for e in examples])


# ---------------------------------------------------------------------------------------------------------------
# Losses


def rm_per_token_loss(values, input_ids, pad_id):
    """LLaMA-Factory 0.5.x PairwiseTrainer.compute_loss (trlx): mean over pairs of the mean -logsigmoid(v_c - v_r)
    over [div, end), pad positions of the shorter row included."""
    n = input_ids.shape[0] // 2
    chosen_ids, rejected_ids = input_ids[:n], input_ids[n:]
    chosen_values, rejected_values = values[:n], values[n:]
    loss = 0
    for i in range(n):
        chosen_length = (chosen_ids[i] != pad_id).nonzero()[-1] + 1
        rejected_length = (rejected_ids[i] != pad_id).nonzero()[-1] + 1
        divergence = (chosen_ids[i] != rejected_ids[i]).nonzero()
        if len(divergence) == 0:
            end = chosen_length
            div = end - 1
        else:
            end = max(chosen_length, rejected_length)
            div = divergence[0]
        assert div > 0
        loss += -F.logsigmoid(chosen_values[i, div:end] - rejected_values[i, div:end]).mean()
    return loss / n


def rm_last_token_loss(values, attention_mask):
    """LLaMA-Factory >= 0.8.3: -logsigmoid(score_c - score_r).mean(), scores at attention_mask.sum() - 1."""
    n = values.shape[0] // 2
    scores = values.gather(-1, attention_mask.sum(-1, keepdim=True) - 1).squeeze(-1)  # [2n]
    return -F.logsigmoid(scores[:n].float() - scores[n:].float()).mean()


def micro_batch_loss(stage, rm_loss, model, value_head, batch, pad_id):
    input_ids, attention_mask, labels = batch
    if stage == "rm":
        out = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        values = value_head(out.hidden_states[-1]).squeeze(-1)  # [2n, T]; TRL ValueHead, dropout 0
        if rm_loss == "per_token":
            return rm_per_token_loss(values, input_ids, pad_id)
        return rm_last_token_loss(values, attention_mask)
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    shifted = F.cross_entropy(out.logits[:, :-1].reshape(-1, out.logits.shape[-1]).float(),
                              labels[:, 1:].reshape(-1), ignore_index=IGNORE)
    torch.testing.assert_close(out.loss, shifted, rtol=1e-6, atol=1e-6)
    return out.loss


# ---------------------------------------------------------------------------------------------------------------
# The training loop: HF Trainer 4.38 _inner_training_loop as tune.cpp implements it


def schedule_fn(name):
    return {"cosine": transformers.get_cosine_schedule_with_warmup,
            "linear": transformers.get_linear_schedule_with_warmup}[name]


def train(plan, examples, model, value_head, pad_id):
    n, bs, ga = len(examples), plan["per_device_train_batch_size"], plan["gradient_accumulation_steps"]
    batches_per_epoch = math.ceil(n / bs)  # drop_last false: the last micro-batch may be smaller
    updates_per_epoch = max(batches_per_epoch // ga, 1)
    max_steps = math.ceil(plan["num_train_epochs"] * updates_per_epoch)
    epochs = math.ceil(plan["num_train_epochs"])
    warmup = plan.get("warmup_steps", 0) or math.ceil(max_steps * plan.get("warmup_ratio", 0.0))

    lora = lora_params(model)
    named = dict(lora)
    if value_head is not None:
        named["v_head.summary.weight"] = value_head.weight
        named["v_head.summary.bias"] = value_head.bias
    decay = [p for k, p in named.items() if "bias" not in k]  # HF get_decay_parameter_names
    no_decay = [p for k, p in named.items() if "bias" in k]
    groups = [{"params": decay, "weight_decay": plan["weight_decay"]}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups, lr=plan["learning_rate"], betas=(0.9, 0.999), eps=1e-8, foreach=False)
    scheduler = schedule_fn(plan["lr_scheduler_type"])(optimizer, warmup, max_steps)

    log = {"loss": [], "grad_norm": [], "learning_rate": [], "lr_used": [], "epoch": [], "micro_batches": []}
    total_batched, global_step, tr_loss, window = 0, 0, 0.0, []
    optimizer.zero_grad()
    for epoch in range(epochs):
        # tune.cpp's documented order: numpy's default_rng(seed + epoch).permutation over the train split
        # (HF 4.38 shuffles with a torch generator instead, a different permutation of the same examples).
        order = np.random.default_rng(plan["seed"] + epoch).permutation(n).tolist()
        for step in range(batches_per_epoch):
            part = order[step * bs:(step + 1) * bs]
            batch = collate(plan["stage"], [examples[i] for i in part], pad_id)
            total_batched += 1
            loss = micro_batch_loss(plan["stage"], plan.get("rm_loss"), model, value_head, batch, pad_id)
            (loss / ga).backward()  # accelerate's backward divides by GA
            tr_loss += loss.item() / ga
            window.append(part)
            short_epoch_end = batches_per_epoch <= ga and step + 1 == batches_per_epoch
            if total_batched % ga != 0 and not short_epoch_end:
                continue  # a tail < GA at an epoch end carries into the next epoch's first update
            grad_norm = torch.nn.utils.clip_grad_norm_(list(named.values()), plan["max_grad_norm"]).item()
            log["lr_used"].append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            global_step += 1
            log["loss"].append(tr_loss)  # logging_steps 1: the window is one step
            log["grad_norm"].append(grad_norm)
            log["learning_rate"].append(scheduler.get_last_lr()[0])  # 4.38 logs the lr after scheduler.step()
            log["epoch"].append(epoch + (step + 1) / batches_per_epoch)
            log["micro_batches"].append(window)
            tr_loss, window = 0.0, []
            if global_step >= max_steps:
                return log
    return log


def micro_batch_table(windows, ga, bs):
    table = torch.full((len(windows), ga, bs), -1, dtype=torch.int32)  # [steps, GA, micro-batch]; -1 = none
    for s, window in enumerate(windows):
        assert len(window) == ga
        for m, part in enumerate(window):
            table[s, m, :len(part)] = torch.tensor(part, dtype=torch.int32)
    return table


def run_case(name, tune, out):
    where = lambda sub: os.path.relpath(out / sub, REPO)  # noqa: E731; configs are run from the repository root
    plan = {"model_name_or_path": where("model"), "adapter_name_or_path": where("adapter"),
            "dataset_dir": where("data"), **COMMON, **CASES[name]}
    case_dir = out / name
    case_dir.mkdir(parents=True, exist_ok=True)
    write_config(case_dir, name, plan)
    examples = token_ids(tune, case_dir)

    base = GemmaForCausalLM.from_pretrained(out / "model", attn_implementation="eager", dtype=torch.float32)
    model = PeftModel.from_pretrained(base, out / "adapter", is_trainable=True)
    model.train()
    value_head = None
    if plan["stage"] == "rm":
        head = safetensors.torch.load_file(str(out / "adapter/value_head.safetensors"))
        value_head = torch.nn.Linear(MODEL.config["hidden_size"], 1)
        with torch.no_grad():
            value_head.weight.copy_(head["v_head.summary.weight"])
            value_head.bias.copy_(head["v_head.summary.bias"])
    pad_id = MODEL.config["pad_token_id"]
    log = train(plan, examples, model, value_head, pad_id)

    clipped = sum(g > plan["max_grad_norm"] for g in log["grad_norm"])
    assert 0 < clipped < len(log["grad_norm"]), f"{name}: max_grad_norm should clip some steps, not all: {log}"
    assert log["lr_used"][0] == 0.0 and min(log["lr_used"][1:]) > 0.0
    f64 = lambda key: torch.tensor(log[key], dtype=torch.float64)  # noqa: E731
    expected = {"loss": f64("loss"), "grad_norm": f64("grad_norm"), "learning_rate": f64("learning_rate"),
                "lr_used": f64("lr_used"), "epoch": f64("epoch"),
                "train_loss": torch.tensor([sum(log["loss"]) / len(log["loss"])], dtype=torch.float64),
                "micro_batches": micro_batch_table(log["micro_batches"], plan["gradient_accumulation_steps"],
                                                   plan["per_device_train_batch_size"])}
    for key, param in lora_params(model).items():
        expected["final." + key] = param.detach().clone()
    bias_drift = None
    if value_head is not None:
        expected["final.v_head.summary.weight"] = value_head.weight.detach().clone()  # [1, H]
        expected["final.v_head.summary.bias"] = value_head.bias.detach().clone()  # [1]
        # The bias cancels in v_chosen - v_rejected, so its exact gradient is 0 and it moves only by fp32 rounding
        # noise that AdamW normalizes up to lr-sized steps: its drift stays within the sum of the lrs used.
        bias_drift = abs(value_head.bias.item() - head["v_head.summary.bias"].item())
        assert bias_drift <= sum(log["lr_used"]), f"{name}: value-head bias drifted by {bias_drift}"
    save_tensors(expected, case_dir / "expected.safetensors")
    meta = {"case": name, "steps": len(log["loss"]), "clipped_steps": clipped, "v_head_bias_drift": bias_drift,
            "loss": log["loss"], "grad_norm": log["grad_norm"], "lr_used": log["lr_used"],
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "peft": peft.__version__, "safetensors": safetensors.__version__, "numpy": np.__version__}}
    (case_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: {len(log['loss'])} steps, {clipped} clipped, loss {log['loss'][0]:.5f} -> {log['loss'][-1]:.5f}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", type=Path, default=REPO / "build/tune", help="a built tune binary (for `tune data`)")
    parser.add_argument("--out", type=Path, default=REPO / "tests/data/trajectory")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # fixed reduction order
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_model_and_adapter(out)
    write_datasets(out)
    for name in CASES:
        run_case(name, args.tune.resolve(), out)


if __name__ == "__main__":
    main(sys.argv[1:])
