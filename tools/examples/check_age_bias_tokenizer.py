#!/usr/bin/env python3
"""Checks the age_bias example tokenizer in HF transformers and prints the dataset's token-length statistics.

Run with the reference venv (tools/reference/README.md), from the repository root:
    /work/refenv/bin/python tools/examples/check_age_bias_tokenizer.py

Checks (any failure exits non-zero):
- AutoTokenizer loads examples/age_bias/model with the Gemma specials: <pad> 0, <eos> 1, <bos> 2, <unk> 3,
  <mask> 4, <start_of_turn> 5, <end_of_turn> 6, 2000 tokens, a <bos> prepended and no <eos> appended by default;
- every prompt and answer of both data files encodes (add_special_tokens=False) to the same ids as plain
  sentencepiece with the turn markers split out first (the slow-tokenizer rule the seed run used), and decodes back
  to the same text.
Statistics use the seed-era LLaMA-Factory gemma template: prompt = <bos> + "<start_of_turn>user\\n{instruction}\\n
{input}<end_of_turn>\\n<start_of_turn>model\\n", each answer = its ids + <eos>.
"""
import json
import re
import statistics
import sys
from pathlib import Path

import sentencepiece as spm
from transformers import AutoTokenizer

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "examples/age_bias/model"
DATA = ROOT / "examples/age_bias/data"
EXPECTED_IDS = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4, "<start_of_turn>": 5, "<end_of_turn>": 6}
TURN_IDS = {"<start_of_turn>": 5, "<end_of_turn>": 6}
USER = "<start_of_turn>user\n{q}<end_of_turn>\n<start_of_turn>model\n"


def check(cond: bool, what: str) -> None:
    if not cond:
        sys.exit(f"FAILED: {what}")


def slow_encode(sp: spm.SentencePieceProcessor, text: str) -> list:
    ids = []
    for chunk in re.split(r"(<start_of_turn>|<end_of_turn>)", text):
        if chunk in TURN_IDS:
            ids.append(TURN_IDS[chunk])
        elif chunk:
            ids += sp.encode(chunk)
    return ids


def main() -> None:
    tok = AutoTokenizer.from_pretrained(MODEL)
    sp = spm.SentencePieceProcessor(model_file=str(MODEL / "tokenizer.model"))
    print(f"{type(tok).__name__}: {len(tok)} tokens")
    check(len(tok) == 2000 == sp.get_piece_size(), "vocabulary size 2000")
    for token, want in EXPECTED_IDS.items():
        check(tok.convert_tokens_to_ids(token) == want, f"{token} has id {want}")
    check((tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id) == (2, 1, 0, 3), "special ids")
    sample = "<start_of_turn>user\nWho forgot the meeting?<end_of_turn>\n<start_of_turn>model\n"
    with_specials = tok(sample)["input_ids"]
    check(with_specials[0] == 2 and with_specials[-1] != 1, "<bos> prepended, no <eos> appended")
    print("sample:", sample.replace("\n", "\\n"))
    print("  ids:   ", with_specials)
    print("  pieces:", tok.convert_ids_to_tokens(with_specials))

    for name in ("age_bias", "age_bias_test"):
        rows = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
        prompt_lens, chosen_lens, rejected_lens, pair_max = [], [], [], []
        for row in rows:
            query = row["instruction"] + ("\n" + row["input"] if row["input"] else "")
            texts = [USER.format(q=query)] + row["output"]
            ids = []
            for text in texts:
                hf = tok.encode(text, add_special_tokens=False)
                check(hf == slow_encode(sp, text), f"HF and sentencepiece agree on {text!r}")
                check(tok.decode(hf) == text, f"decode round trip of {text!r}")
                ids.append(hf)
            prompt_lens.append(1 + len(ids[0]))
            chosen_lens.append(len(ids[1]) + 1)
            rejected_lens.append(len(ids[2]) + 1)
            pair_max.append(prompt_lens[-1] + max(chosen_lens[-1], rejected_lens[-1]))
        print(f"{name}: {len(rows)} pairs; tokens (mean / max): prompt {statistics.mean(prompt_lens):.1f} / "
              f"{max(prompt_lens)}, chosen {statistics.mean(chosen_lens):.1f} / {max(chosen_lens)}, rejected "
              f"{statistics.mean(rejected_lens):.1f} / {max(rejected_lens)}, longest sequence of a pair "
              f"{statistics.mean(pair_max):.1f} / {max(pair_max)}")
    print("OK")


if __name__ == "__main__":
    main()
