#!/usr/bin/env python3
"""Writes the dataset fixtures in tests/data/datasets: tiny LLaMA-Factory datasets, broken ones for error tests, the
token ids LLaMA-Factory v0.5.x would make from them, and numpy train/eval splits.

Run with the reference venv after tests/data/tokenizer exists (tools/reference/make_tokenizer_golden.py):
    /work/refenv/bin/python tools/reference/make_dataset_golden.py [--out tests/data/datasets]

The expected ids come from a Python rendition of LLaMA-Factory v0.5.x (data/aligner.py convert_alpaca /
convert_sharegpt, data/preprocess.py preprocess_pretrain_dataset / preprocess_supervised_dataset /
preprocess_pairwise_dataset, Template.encode_multiturn / encode_oneturn) on HF's GemmaTokenizer loaded from
tests/data/tokenizer. Where the brief asks for something else than v0.5.x the rendition follows the brief and says so:
- alpaca: instruction and input are joined with "\\n" only when both are non-empty (LF >= 0.5.3 form);
- sharegpt: a broken role order drops the example (v0.5.x raised); tool roles/columns are dropped too (tune.cpp's
  templates have no tool formatting); preference data may also use chosen/rejected columns (LF >= 0.8 form);
- every drop is counted with a reason.
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import transformers
from transformers import GemmaTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_tokenizer_golden import TEMPLATES, lf_encode_multiturn  # noqa: E402  LF's template encoding, shared

ROOT = Path(__file__).resolve().parents[2]
IGNORE = -100
HF_MAP_BATCH = 1000  # datasets.Dataset.map(batched=True) default batch_size

# ---------------------------------------------------------------------------------------------------------------
# 1. fixture datasets
# ---------------------------------------------------------------------------------------------------------------
ALPACA_SFT = [
    {"instruction": "What is the capital of France?", "input": "", "output": "Paris is the capital."},
    {"instruction": "Translate to French", "input": "the red house", "output": "la maison rouge",
     "system": "You are a translator."},
    {"instruction": "And the blue one?", "input": "", "output": "la maison bleue",
     "history": [["Translate to French: the house", "la maison"], ["And the car?", "la voiture"]],
     "system": "Answer briefly."},
    {"instruction": "", "input": "only an input here", "output": "ok"},
    {"instruction": "This row has no answer", "input": ""},
    {"instruction": "Empty answer", "input": "", "output": ""},
    {"instruction": "Describe the river that runs through the capital city and why people like it so much",
     "input": "in two sentences", "output": "The river is long and blue. People go there each day because the "
                                           "water is clean and the banks are green."},
]

SHAREGPT_SFT = [
    {"conversations": [{"from": "system", "value": "Be kind."}, {"from": "human", "value": "Hi there"},
                       {"from": "gpt", "value": "Hello."}, {"from": "human", "value": "What is 2+2?"},
                       {"from": "gpt", "value": "4"}]},
    {"conversations": [{"from": "human", "value": "Say hello."}, {"from": "gpt", "value": "Hello!"},
                       {"from": "human", "value": "a trailing question is cut off"}],
     "system": "You are a helpful assistant."},
    {"conversations": [{"from": "gpt", "value": "wrong order"}, {"from": "human", "value": "hi"}]},
    {"conversations": [{"from": "human", "value": "weather?"}, {"from": "function_call", "value": "{}"},
                       {"from": "observation", "value": "sunny"}, {"from": "gpt", "value": "It is sunny."}]},
    {"conversations": [{"from": "human", "value": "only a question"}]},
    {"conversations": [{"from": "human", "value": "café 日本 🙂"}, {"from": "gpt", "value": "ok ★"}]},
]

RANKING_SEED = [  # LF v0.5.x: "output" = [chosen, rejected]
    {"instruction": "Is the sky blue?", "input": "", "output": ["Yes, on a clear day.", "No."]},
    {"instruction": "Pick a color", "input": "for a house", "output": ["Blue is calm and clean.", "Purple!!!"],
     "system": "Answer briefly."},
    {"instruction": "And now?", "input": "", "output": ["Green.", "I do not know."],
     "history": [["Pick a color", "Blue."]]},
    {"instruction": "Only one answer", "input": "", "output": ["just this"]},
    {"instruction": "A plain string answer", "input": "", "output": "not a pair"},
    {"instruction": "Describe the river that runs through the capital city and why people like it so much",
     "input": "", "output": ["The river is long and blue and the people go there each day because the water is "
                             "clean", "Rivers are wet."]},
]

RANKING_CURRENT = [  # LF >= 0.8: separate chosen/rejected columns
    {"question": "Is water wet?", "context": "", "good": "Yes, water makes things wet.", "bad": "No."},
    {"question": "Name a capital", "context": "in Europe", "good": "Paris.", "bad": "The sun."},
    {"question": "No rejected answer here", "context": "", "good": "alone"},
]

RANKING_SHAREGPT = [  # LF >= 0.8 sharegpt preference form
    {"conversations": [{"from": "human", "value": "Hi there"}],
     "chosen": {"from": "gpt", "value": "Hello, how can I help?"}, "rejected": {"from": "gpt", "value": "Go away."}},
    {"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "2+2?"},
                       {"from": "gpt", "value": "4"}, {"from": "human", "value": "3+3?"}],
     "chosen": {"from": "gpt", "value": "6"}, "rejected": {"from": "gpt", "value": "7"}},
    {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}],
     "chosen": {"from": "gpt", "value": "even prompt"}, "rejected": {"from": "gpt", "value": "dropped"}},
]

PT_TEXT = [
    {"text": "The river is long and blue."},
    {"text": "People go there each day because the water is clean."},
    {"text": ""},
    {"text": "Hello world\nline two"},
    {"text": "café naïve 日本"},
]

PT_FOLDER = {  # a folder dataset: files are read in name order; .json and .jsonl may mix
    "a_part.jsonl": [{"content": "first file, first line"}, {"content": "first file, second line"}],
    "b_part.json": [{"content": "second file holds an array"}],
}

PT_WORDS = ["blue", "the river", "clean water", "hello", "a", "people go there", "café"]
PT_MANY = [{"text": PT_WORDS[i % len(PT_WORDS)]} for i in range(1005)]  # crosses one HF map batch (1000 rows)


def dataset_info() -> dict:
    return {
        "alpaca_sft": {"file_name": "alpaca_sft.json",
                       "columns": {"prompt": "instruction", "query": "input", "response": "output",
                                   "history": "history", "system": "system"}},
        "sharegpt_sft": {"file_name": "sharegpt_sft.jsonl", "formatting": "sharegpt",
                         "columns": {"messages": "conversations", "system": "system"}},
        "ranking_seed": {"file_name": "ranking_seed.json", "ranking": True,
                         "columns": {"prompt": "instruction", "query": "input", "response": "output",
                                     "history": "history", "system": "system"}},
        "ranking_current": {"file_name": "ranking_current.jsonl", "ranking": True,
                            "columns": {"prompt": "question", "query": "context", "chosen": "good",
                                        "rejected": "bad"}},
        "ranking_sharegpt": {"file_name": "ranking_sharegpt.json", "ranking": True, "formatting": "sharegpt",
                             "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"}},
        "pt_text": {"file_name": "pt_text.jsonl", "columns": {"prompt": "text"}},
        "pt_folder": {"file_name": "pt_folder", "columns": {"prompt": "content"}},
        "pt_many": {"file_name": "pt_many.jsonl", "columns": {"prompt": "text"}},
        "alpaca_defaults": {"file_name": "alpaca_defaults.jsonl"},
        # broken ones, for the error tests
        "broken_line": {"file_name": "broken_line.jsonl"},
        "broken_array": {"file_name": "broken_array.json"},
        "wrong_columns": {"file_name": "alpaca_sft.json", "columns": {"prompt": "question", "response": "answer"}},
        "ranking_one_answer": {"file_name": "ranking_one_answer.json", "ranking": True},
        "missing_file": {"file_name": "no_such_file.json"},
        "hub_only": {"hf_hub_url": "someone/some_dataset"},
        "all_invalid_roles": {"file_name": "all_invalid_roles.jsonl", "formatting": "sharegpt"},
    }


BROKEN_LINE = '{"instruction": "ok", "output": "fine"}\n\n{"instruction": "broken", "output": "x",}\n'
BROKEN_ARRAY = '[\n  {"instruction": "ok", "output": "fine"},\n  {"instruction": "no colon" "output": "x"}\n]\n'
ALPACA_DEFAULTS = [{"instruction": "Default columns", "input": "are instruction, input, output", "output": "Yes."}]
RANKING_ONE_ANSWER = [{"instruction": "q1", "output": ["only one"]}, {"instruction": "q2", "output": "a string"}]
ALL_INVALID_ROLES = [{"conversations": [{"from": "gpt", "value": "a"}, {"from": "human", "value": "b"}]}]


def write_json(path: Path, rows) -> None:
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")


def write_jsonl(path: Path, rows) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def write_fixtures(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "dataset_info.json").write_text(json.dumps(dataset_info(), indent=2) + "\n")
    write_json(out / "alpaca_sft.json", ALPACA_SFT)
    write_jsonl(out / "sharegpt_sft.jsonl", SHAREGPT_SFT)
    write_json(out / "ranking_seed.json", RANKING_SEED)
    write_jsonl(out / "ranking_current.jsonl", RANKING_CURRENT)
    write_json(out / "ranking_sharegpt.json", RANKING_SHAREGPT)
    write_jsonl(out / "pt_text.jsonl", PT_TEXT)
    (out / "pt_folder").mkdir(exist_ok=True)
    for name, rows in PT_FOLDER.items():
        (write_jsonl if name.endswith(".jsonl") else write_json)(out / "pt_folder" / name, rows)
    write_jsonl(out / "pt_many.jsonl", PT_MANY)
    write_jsonl(out / "alpaca_defaults.jsonl", ALPACA_DEFAULTS)
    (out / "broken_line.jsonl").write_text(BROKEN_LINE)
    (out / "broken_array.json").write_text(BROKEN_ARRAY)
    write_json(out / "ranking_one_answer.json", RANKING_ONE_ANSWER)
    write_jsonl(out / "all_invalid_roles.jsonl", ALL_INVALID_ROLES)


# ---------------------------------------------------------------------------------------------------------------
# 2. LLaMA-Factory v0.5.x: registry -> aligned examples -> token ids
# ---------------------------------------------------------------------------------------------------------------
def read_rows(path: Path) -> list:
    files = sorted(p for p in path.iterdir() if not p.name.startswith(".")) if path.is_dir() else [path]
    rows = []
    for f in files:
        text = f.read_text()
        if text.lstrip().startswith("["):
            rows += json.loads(text)
        else:
            rows += [json.loads(line) for line in text.splitlines() if line.strip()]
    return rows


def spec_of(info: dict, name: str) -> dict:
    entry = info[name]
    spec = {"formatting": entry.get("formatting", "alpaca"), "ranking": entry.get("ranking", False),
            "file_name": entry["file_name"]}
    if "columns" in entry:  # LF: once "columns" is given, the columns it leaves out are None
        keys = ["system", "chosen", "rejected"] + (["prompt", "query", "response", "history"]
                                                   if spec["formatting"] == "alpaca" else ["messages", "tools"])
        spec.update({k: entry["columns"].get(k) for k in keys})
    elif spec["formatting"] == "alpaca":
        spec.update(prompt="instruction", query="input", response="output")
    else:
        spec.update(messages="conversations")
    return spec


def convert_alpaca(row: dict, spec: dict) -> dict:
    get = lambda key: row.get(spec[key]) if spec.get(key) else None  # noqa: E731
    prompt = []
    if isinstance(get("history"), list):
        for q, a in get("history"):
            prompt += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    parts = [p for p in (get("prompt"), get("query")) if p]
    prompt.append({"role": "user", "content": "\n".join(parts)})
    chosen, rejected, response = get("chosen"), get("rejected"), get("response")
    if spec["ranking"] and isinstance(chosen, str) and isinstance(rejected, str):
        responses = [chosen, rejected]
    elif isinstance(response, list):
        responses = list(response)
    elif isinstance(response, str):
        responses = [response]
    else:
        responses = []
    return {"prompt": prompt, "response": responses, "system": get("system") or ""}


def convert_sharegpt(row: dict, spec: dict, drops: list):
    tags = dict(role="from", content="value", user="human", assistant="gpt", observation="observation",
                function="function_call", system="system")
    messages = row.get(spec["messages"]) or []
    if messages and messages[0][tags["role"]] == tags["system"]:
        system, messages = messages[0][tags["content"]], messages[1:]
    else:
        system = (row.get(spec["system"]) if spec.get("system") else None) or ""
    turns = [(m[tags["role"]], m[tags["content"]]) for m in messages]
    chosen = row.get(spec["chosen"]) if spec.get("chosen") else None
    rejected = row.get(spec["rejected"]) if spec.get("rejected") else None
    pairwise = spec["ranking"] and isinstance(chosen, dict) and isinstance(rejected, dict)
    if pairwise:
        turns += [(chosen[tags["role"]], chosen[tags["content"]]), (rejected[tags["role"]], rejected[tags["content"]])]
    else:
        turns = turns[: len(turns) // 2 * 2]
    if not turns:
        drops.append("empty")
        return None
    tool = bool(spec.get("tools") and row.get(spec["tools"]))
    for i, (role, _) in enumerate(turns):
        pos = i - 1 if pairwise and i == len(turns) - 1 else i
        plain, tool_tag = (tags["user"], tags["observation"]) if pos % 2 == 0 else (tags["assistant"], tags["function"])
        if role not in (plain, tool_tag):
            drops.append("roles")
            return None
        tool |= role == tool_tag
    if tool:
        drops.append("tools")
        return None
    n_answers = 2 if pairwise else 1
    prompt = [{"role": "user" if i % 2 == 0 else "assistant", "content": c} for i, (_, c) in
              enumerate(turns[:-n_answers])]
    return {"prompt": prompt, "response": [c for _, c in turns[-n_answers:]], "system": system}


def load_aligned(data_dir: Path, names: list, max_samples, drops: list) -> list:
    info = json.loads((data_dir / "dataset_info.json").read_text())
    aligned = []
    for name in names:
        spec = spec_of(info, name)
        rows = read_rows(data_dir / spec["file_name"])
        if max_samples is not None:
            rows = rows[:max_samples]
        for row in rows:
            ex = convert_alpaca(row, spec) if spec["formatting"] == "alpaca" else convert_sharegpt(row, spec, drops)
            if ex is not None:
                aligned.append(ex)
    return aligned


def preprocess_pretrain(tok, examples: list, cutoff_len: int) -> list:
    out = []
    for start in range(0, len(examples), HF_MAP_BATCH):
        batch = examples[start: start + HF_MAP_BATCH]
        texts = [ex["prompt"][0]["content"] + tok.eos_token for ex in batch]
        ids = [i for t in texts for i in tok(t, add_special_tokens=False)["input_ids"]]
        total = len(ids) // cutoff_len * cutoff_len
        for i in range(0, total, cutoff_len):
            block = ids[i: i + cutoff_len]
            out.append({"input_ids": block, "labels": [IGNORE if t == tok.pad_token_id else t for t in block]})
    return out


def encode_pairs(tok, template: str, ex: dict, answer: str, cutoff_len: int) -> list:
    messages = ex["prompt"] + [{"role": "assistant", "content": answer}]
    pairs, _ = lf_encode_multiturn(tok, template, messages, ex["system"], cutoff_len)
    return [(p["source"], p["target"]) for p in pairs]


def template_eos(tok, template: str) -> int:
    eos_token = TEMPLATES[template]["eos_token"]
    return tok.convert_tokens_to_ids(eos_token) if eos_token else tok.eos_token_id


def preprocess_supervised(tok, template: str, examples: list, cutoff_len: int, train_on_prompt: bool,
                          drops: list) -> list:
    efficient_eos, eos = TEMPLATES[template]["efficient_eos"], template_eos(tok, template)
    out = []
    for ex in examples:
        if len(ex["prompt"]) % 2 != 1:
            drops.append("even")
            continue
        if len(ex["response"]) != 1:
            drops.append("not_one")
            continue
        input_ids, labels = [], []
        for turn_idx, (source, target) in enumerate(encode_pairs(tok, template, ex, ex["response"][0], cutoff_len)):
            if train_on_prompt:
                source_mask = source
            elif turn_idx != 0 and efficient_eos:
                source_mask = [eos] + [IGNORE] * (len(source) - 1)
            else:
                source_mask = [IGNORE] * len(source)
            input_ids += source + target
            labels += source_mask + target
        if efficient_eos:
            input_ids += [eos]
            labels += [eos]
        out.append({"input_ids": input_ids, "labels": labels})
    return out


def preprocess_pairwise(tok, template: str, examples: list, cutoff_len: int, drops: list) -> list:
    efficient_eos, eos = TEMPLATES[template]["efficient_eos"], template_eos(tok, template)
    out = []
    for ex in examples:
        if len(ex["prompt"]) % 2 != 1:
            drops.append("even")
            continue
        if len(ex["response"]) < 2:
            drops.append("fewer_than_two")
            continue

        def oneturn(answer):  # Template.encode_oneturn
            pairs = encode_pairs(tok, template, ex, answer, cutoff_len)
            prompt = [i for s, t in pairs[:-1] for i in s + t] + pairs[-1][0]
            return prompt, list(pairs[-1][1])

        prompt_ids, chosen_ids = oneturn(ex["response"][0])
        _, rejected_ids = oneturn(ex["response"][1])
        if efficient_eos:
            chosen_ids += [eos]
            rejected_ids += [eos]
        out.append({"prompt_ids": prompt_ids, "chosen_ids": chosen_ids, "rejected_ids": rejected_ids})
    return out


CASES = [  # name, stage, datasets, template, cutoff_len, max_samples, train_on_prompt
    ("sft_alpaca", "sft", ["alpaca_sft"], "gemma", 1024, None, False),
    ("sft_alpaca_cutoff", "sft", ["alpaca_sft"], "gemma", 24, None, False),
    ("sft_alpaca_train_on_prompt", "sft", ["alpaca_sft"], "gemma", 1024, None, True),
    ("sft_alpaca_default_template", "sft", ["alpaca_sft"], "default", 1024, None, False),
    ("sft_alpaca_defaults", "sft", ["alpaca_defaults"], "gemma", 1024, None, False),
    ("sft_sharegpt", "sft", ["sharegpt_sft"], "gemma", 1024, None, False),
    ("sft_two_datasets_max_samples", "sft", ["sharegpt_sft", "alpaca_sft"], "gemma", 1024, 3, False),
    ("rm_seed", "rm", ["ranking_seed"], "gemma", 1024, None, False),
    ("rm_seed_cutoff", "rm", ["ranking_seed"], "gemma", 16, None, False),
    ("rm_seed_default_template", "rm", ["ranking_seed"], "default", 1024, None, False),
    ("rm_current", "rm", ["ranking_current"], "gemma", 1024, None, False),
    ("rm_sharegpt", "rm", ["ranking_sharegpt"], "gemma", 1024, None, False),
    ("pt_text", "pt", ["pt_text"], "", 8, None, False),
    ("pt_folder", "pt", ["pt_folder"], "", 5, None, False),
    ("pt_many", "pt", ["pt_many"], "", 7, None, False),
]


def run_case(tok, data_dir: Path, case: tuple) -> dict:
    name, stage, names, template, cutoff_len, max_samples, train_on_prompt = case
    drops = []
    examples = load_aligned(data_dir, names, max_samples, drops)
    doc = {"name": name, "stage": stage, "datasets": names, "template": template, "cutoff_len": cutoff_len,
           "max_samples": max_samples, "train_on_prompt": train_on_prompt}
    if stage == "pt":
        doc["supervised"] = preprocess_pretrain(tok, examples, cutoff_len)
    elif stage == "sft":
        doc["supervised"] = preprocess_supervised(tok, template, examples, cutoff_len, train_on_prompt, drops)
    else:
        doc["pairwise"] = preprocess_pairwise(tok, template, examples, cutoff_len, drops)
    doc["dropped"] = len(drops)
    rows = doc.get("supervised") or doc.get("pairwise")
    assert rows, name
    for r in doc.get("supervised", []):
        assert len(r["input_ids"]) == len(r["labels"]), name
    return doc


# ---------------------------------------------------------------------------------------------------------------
# 3. HF datasets train_test_split: n_test = ceil(v * n) (fraction) or int(v) (count); numpy permutation, test first
# ---------------------------------------------------------------------------------------------------------------
SPLITS = [  # n, val_size, seed, store the whole train list
    (10, 0.1, 42, True),
    (37, 0.2, 0, True),
    (100, 0.05, 1234, True),
    (1000, 25.0, 7, True),
    (257, 0.5, 2**33 + 17, True),  # a seed wider than 32 bits: two entropy words
    (8780, 0.05, 42, False),  # the seed run's size: 439 eval examples
    (70000, 0.01, 3, False),  # masks wider than 16 bits in the shuffle
]


def split_case(n: int, val_size: float, seed: int, whole_train: bool) -> dict:
    n_test = int(val_size) if val_size > 1 else math.ceil(val_size * n)
    perm = np.random.default_rng(seed).permutation(n).tolist()
    doc = {"n": n, "val_size": val_size, "seed": seed, "eval": perm[:n_test]}
    train = perm[n_test:]
    if whole_train:
        doc["train"] = train
    else:
        doc["train_head"] = train[:50]
        doc["train_sum"] = sum(train)
    return doc


# ---------------------------------------------------------------------------------------------------------------
def dump_lines(doc: dict, key: str) -> str:
    """JSON with one list element per line (small diffs, readable fixtures)."""
    head = json.dumps({k: v for k, v in doc.items() if k != key}, ensure_ascii=False)
    items = ",\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in doc[key])
    return head[:-1] + f', "{key}": [\n' + items + "\n]}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "datasets"))
    ap.add_argument("--tokenizer", default=str(ROOT / "tests" / "data" / "tokenizer"))
    args = ap.parse_args()
    out = Path(args.out)
    write_fixtures(out)
    tok = GemmaTokenizer.from_pretrained(args.tokenizer)
    assert (tok.pad_token_id, tok.eos_token_id, tok.bos_token_id) == (0, 1, 2)

    cases = [run_case(tok, out, c) for c in CASES]
    meta = {"generator": "tools/reference/make_dataset_golden.py", "transformers": transformers.__version__,
            "numpy": np.__version__}
    (out / "expected.json").write_text(dump_lines({**meta, "cases": cases}, "cases"))
    splits = [split_case(*s) for s in SPLITS]
    raw = {str(seed): [int(v) for v in np.random.default_rng(seed).bit_generator.random_raw(4)]
           for seed in (0, 42, 2**33 + 17)}  # PCG64 64-bit outputs after SeedSequence seeding
    (out / "split_expected.json").write_text(dump_lines({**meta, "pcg64_raw": raw, "splits": splits}, "splits"))
    print(f"wrote {out}: {len(cases)} preprocessing cases, {len(splits)} splits")
    for c in cases:
        n = len(c.get("supervised") or c.get("pairwise"))
        print(f"  {c['name']}: {n} examples, {c['dropped']} dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
