#!/usr/bin/env python3
"""Generates the small GGUF tokenizer fixtures in tests/data/gguf_tokenizer: one GGUF file (metadata only, no
tensors) per tokenizer form tune.cpp reads from GGUF, and the ids transformers gives for them.

    python3 tools/reference/make_gguf_tokenizer_golden.py [--out tests/data/gguf_tokenizer]

Each file is written with the `gguf` package's GGUFWriter from the vocabulary of one tiny tokenizer of
tests/data/hf_tokenizer (trained by make_hf_tokenizer_golden.py), with llama.cpp's token types and keys:
  llama_spm      tokenizer.ggml.model llama, arch llama: scores (with ties), no merges (transformers derives them from
                 the scores), control/user-defined/byte tokens, add_eos_token set, no pad token
  llama_merges   the same vocabulary with tokenizer.ggml.merges, add_bos_token false
  phi3_spm       arch phi3 (prefix space from a normalizer)
  gemma_spm      arch gemma3: no merges (derived from the token order), whitespace-only tokens stored as spaces, a user-defined token, no
                 <mask> in the vocabulary (transformers adds it past the end)
  gpt2_llama_bpe tokenizer.ggml.model gpt2, pre llama-bpe (the Llama 3 split regex), add_bos_token true
  gpt2_qwen2     pre qwen2, arch qwen2, a control token outside the byte alphabet (skipped) and a raw UTF-8 token
                 (re-spelled in the byte alphabet)
  gpt2_smollm    pre smollm (GPT-2's own ByteLevel regex), no add_bos_token key, a user-defined token
Expected values come from AutoTokenizer.from_pretrained(dir, gguf_file=name) (transformers' GGUF tokenizer
conversion): <name>.json holds per file vocab_size (len(tokenizer)), bos/eos/pad/unk ids, and for the texts of
make_hf_tokenizer_golden.texts() (every other one, to stay small) encode without and with special tokens, decode and
decode(skip_special_tokens=True). Deterministic: two runs give byte-identical files.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import gguf  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_hf_tokenizer_golden as hf  # noqa: E402  (texts)
import make_tokenizer_golden as seed  # noqa: E402  (JSON layout)

HF_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "data" / "hf_tokenizer"
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def tiny(name: str) -> dict:
    return json.loads((HF_FIXTURES / name / "tokenizer.json").read_text())


def by_id(vocab: dict) -> list:
    tokens = [None] * len(vocab)
    for token, index in vocab.items():
        tokens[index] = token
    return tokens


def write_gguf(path: Path, arch: str, kv: list) -> None:
    """A GGUF with the architecture keys transformers' config reader needs and the given tokenizer keys."""
    w = gguf.GGUFWriter(str(path), arch)
    for key, value in [("context_length", 256), ("block_count", 1), ("embedding_length", 16),
                       ("feed_forward_length", 32), ("attention.head_count", 2), ("attention.head_count_kv", 1)]:
        w.add_uint32(f"{arch}.{key}", value)
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)
    for key, value in kv:
        if isinstance(value, bool):
            w.add_bool(key, value)
        elif isinstance(value, int):
            w.add_uint32(key, value)
        elif isinstance(value, str):
            w.add_string(key, value)
        else:
            w.add_array(key, value)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def spm_vocab(extra_user: list, extra_control: list) -> tuple:
    """metaspace_style's vocabulary as a SentencePiece GGUF vocabulary: tokens, scores with ties, types."""
    tokens = by_id(tiny("metaspace_style")["model"]["vocab"]) + extra_control + extra_user
    types, scores = [], []
    for index, token in enumerate(tokens):
        if token == "<unk>":
            types.append(UNKNOWN)
        elif token in ("<s>", "</s>") or token in extra_control:
            types.append(CONTROL)
        elif token.startswith("<0x") and len(token) == 6:
            types.append(BYTE)
        elif token in extra_user:
            types.append(USER_DEFINED)
        else:
            types.append(NORMAL)
        scores.append(0.0 if types[-1] != NORMAL else -float(index // 3))  # ties of three: the length order decides
    return tokens, scores, types


def llama_spm(merges: bool, arch: str = "llama") -> tuple:
    tokens, scores, types = spm_vocab(["<tool>", "river"], ["<|eot|>"])
    kv = [("tokenizer.ggml.model", "llama"), ("tokenizer.ggml.pre", "default"),
          ("tokenizer.ggml.tokens", tokens), ("tokenizer.ggml.scores", [float(s) for s in scores]),
          ("tokenizer.ggml.token_type", [int(t) for t in types]),
          ("tokenizer.ggml.bos_token_id", tokens.index("<s>")), ("tokenizer.ggml.eos_token_id", tokens.index("</s>")),
          ("tokenizer.ggml.unknown_token_id", tokens.index("<unk>"))]
    if merges:
        kv.append(("tokenizer.ggml.merges", [" ".join(m) for m in tiny("metaspace_style")["model"]["merges"]]))
        kv.append(("tokenizer.ggml.add_bos_token", False))
    else:
        kv.append(("tokenizer.ggml.add_eos_token", True))
    return arch, kv


def gemma_spm() -> tuple:
    """Gemma's special ids and names around metaspace_style's pieces; two whitespace tokens stored as spaces."""
    pieces = [t for t in by_id(tiny("metaspace_style")["model"]["vocab"]) if t not in ("<unk>", "<s>", "</s>")]
    tokens = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"] + pieces + ["  ", "   ", "<|fim|>"]
    types = [CONTROL, CONTROL, CONTROL, UNKNOWN, USER_DEFINED, USER_DEFINED]
    types += [BYTE if t.startswith("<0x") and len(t) == 6 else NORMAL for t in pieces] + [USER_DEFINED] * 3
    scores = [0.0] * 6 + [float(-i) for i in range(len(pieces))] + [0.0] * 3
    kv = [("tokenizer.ggml.model", "llama"), ("tokenizer.ggml.pre", "default"),
          ("tokenizer.ggml.tokens", tokens), ("tokenizer.ggml.scores", [float(s) for s in scores]),
          ("tokenizer.ggml.token_type", [int(t) for t in types]),
          ("tokenizer.ggml.bos_token_id", 2), ("tokenizer.ggml.eos_token_id", 1),
          ("tokenizer.ggml.unknown_token_id", 3), ("tokenizer.ggml.padding_token_id", 0),
          ("tokenizer.ggml.add_bos_token", True), ("tokenizer.ggml.add_eos_token", False),
          ("tokenizer.ggml.add_space_prefix", False)]
    return "gemma3", kv


def byte_level(name: str, pre: str, arch: str, specials: dict, extra: list, add_bos) -> tuple:
    """A byte-level tiny tokenizer's vocabulary and merges; its added tokens as control tokens."""
    doc = tiny(name)
    tokens = by_id(doc["model"]["vocab"])
    for t in doc["added_tokens"]:
        if t["id"] >= len(tokens):
            tokens.append(t["content"])
    control = {t["content"] for t in doc["added_tokens"]}
    types = [CONTROL if t in control else NORMAL for t in tokens]
    for token, token_type in extra:
        tokens.append(token)
        types.append(token_type)
    merges = doc["model"]["merges"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    kv = [("tokenizer.ggml.model", "gpt2"), ("tokenizer.ggml.pre", pre), ("tokenizer.ggml.tokens", tokens),
          ("tokenizer.ggml.token_type", [int(t) for t in types]), ("tokenizer.ggml.merges", merges)]
    kv += [(f"tokenizer.ggml.{key}", tokens.index(token)) for key, token in specials.items()]
    if add_bos is not None:
        kv.append(("tokenizer.ggml.add_bos_token", add_bos))
    return arch, kv


FILES = {
    "llama_spm": lambda: llama_spm(merges=False),
    "llama_merges": lambda: llama_spm(merges=True),
    "phi3_spm": lambda: llama_spm(merges=False, arch="phi3"),
    "gemma_spm": gemma_spm,
    "gpt2_llama_bpe": lambda: byte_level(
        "llama3_style", "llama-bpe", "llama",
        {"bos_token_id": "<|begin_of_text|>", "eos_token_id": "<|eot_id|>"}, [], True),
    "gpt2_qwen2": lambda: byte_level(
        "qwen2_style", "qwen2", "qwen2",
        {"eos_token_id": "<|im_end|>", "padding_token_id": "<|endoftext|>"},
        [("<ctrl é>", CONTROL), ("héllo", NORMAL), ("<think>", USER_DEFINED)], False),
    "gpt2_smollm": lambda: byte_level(
        "smollm_style", "smollm", "llama",
        {"bos_token_id": "<|im_start|>", "eos_token_id": "<|im_end|>", "unknown_token_id": "<|endoftext|>",
         "padding_token_id": "<|im_end|>"}, [("<tool_call>", USER_DEFINED)], None),
}


def expected_for(folder: Path, name: str) -> dict:
    tok = AutoTokenizer.from_pretrained(str(folder), gguf_file=name + ".gguf")
    cases = []
    extra = ["<tool> river <|eot|> rivers", "<start_of_turn>user\n  two  spaces\n\n<end_of_turn>",
             "<think>héllo</think> <ctrl é> <tool_call><|fim|>", "<unk><mask><s></s>"]
    for text in extra + hf.texts()[::2]:
        ids = tok.encode(text, add_special_tokens=False)
        cases.append({"text": text, "ids": ids, "ids_with_special": tok.encode(text),
                      "decoded": tok.decode(ids, skip_special_tokens=False),
                      "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    return {"vocab_size": len(tok), "special_ids": hf.special_ids(tok), "cases": cases}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[2] / "tests" / "data" / "gguf_tokenizer")
    args = ap.parse_args()
    versions = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = {}
        for name, make in FILES.items():
            arch, kv = make()
            write_gguf(work / (name + ".gguf"), arch, kv)
            results[name] = {"generator": "tools/reference/make_gguf_tokenizer_golden.py", "versions": versions,
                             **expected_for(work, name)}
            print(f"{name}: vocab {results[name]['vocab_size']}, {len(results[name]['cases'])} texts")
        if args.out.exists():
            shutil.rmtree(args.out)
        args.out.mkdir(parents=True)
        for name, result in results.items():
            shutil.copyfile(work / (name + ".gguf"), args.out / (name + ".gguf"))
            (args.out / (name + ".json")).write_text(seed.to_json_lines(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
