#!/usr/bin/env python3
"""Generates the tokenizer and chat-template golden fixtures in tests/data/tokenizer.

Run with the reference venv (see tools/reference/README.md):
    /work/refenv/bin/python tools/reference/make_tokenizer_golden.py [--out tests/data/tokenizer]

What it does, with no downloads:
1. Builds an English-like corpus from word lists (plus digits, punctuation, CJK, Cyrillic, accented Latin, runs of
   spaces, newlines and tabs) with a fixed seed, and trains a small SentencePiece BPE model on it with Gemma's
   settings: byte_fallback, split_digits, identity normalizer, no dummy prefix, extra whitespace kept,
   whitespace-only pieces allowed, pad 0 / eos 1 / bos 2 / unk 3, control <mask> 4, user-defined
   <start_of_turn> 5 / <end_of_turn> 6 (real Gemma: 106 / 107).
2. Writes tokenizer.model, tokenizer_config.json and special_tokens_map.json in the form transformers 4.38's slow
   GemmaTokenizer saves them (the seed run used LLaMA-Factory's default use_fast_tokenizer=False).
3. Encodes test strings with add_special_tokens=False three ways and requires all three to agree:
   a. an explicit rendition of transformers 4.38's slow GemmaTokenizer (split the text on added-token strings,
      longest match first, then sentencepiece-encode each piece between; decode = sentencepiece-decode of the runs
      between added tokens, added tokens as their content). transformers v5 removed the slow GemmaTokenizer class,
      so this rendition is the reference for the slow path;
   b. transformers v5's generic slow SentencePieceBackend (same splitting, legacy=True plain sp.encode);
   c. transformers v5's GemmaTokenizer (the `tokenizers`-based fast one, converted from tokenizer.model).
   The recorded ids are the common result; decode results are checked the same way (a and c).
4. Encodes conversations with a faithful rendition of LLaMA-Factory's template logic (seed era, 2024-02-23 ..
   v0.5.3: Template._encode + _make_pairs + data/utils.py infer_max_len; and the >= v0.9.3 gemma template) using the
   HF tokenizer from step 3c, and records (source ids, target ids) per turn.

Output (tests/data/tokenizer/): tokenizer.model, tokenizer_config.json, special_tokens_map.json, expected.json
(tests/data/tokenizer/README.md, written by hand, describes them). Deterministic: fixed seeds, one trainer thread;
two runs give byte-identical files. Needs protobuf in the venv (transformers converts tokenizer.model with it).
"""
import argparse
import io
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

import sentencepiece as spm
import transformers
from transformers import GemmaTokenizer
from transformers.tokenization_python import Trie
from transformers.tokenization_utils_sentencepiece import SentencePieceBackend

SEED = 1234
VOCAB_SIZE = 1200
SPECIALS = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4}
TURN_TOKENS = ["<start_of_turn>", "<end_of_turn>"]

# ---------------------------------------------------------------------------------------------------------------
# 1. corpus and sentencepiece model
# ---------------------------------------------------------------------------------------------------------------
COMMON = (
    "the a of and to in is that it was for on are with as his they be at one have this from or had by word but what "
    "some we can out other were all there when up use your how said an each she which do their time if will way about "
    "many then them write would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been now find capital city "
    "answer question hello world test model user assistant human system instruction response below describes task "
    "appropriately completes request helpful you are what where why because river mountain blue green red small large"
).split()
TEMPLATE_WORDS = ["Human:", "Assistant:", "### Instruction:", "### Response:", "System:", "user", "model"]
SYLLABLES = "ka ri to mo na sel ver tan pol dru gen hal bor sti que lin mar cos fe ny zu pe".split()
FOREIGN = "café naïve Straße über résumé déjà vu 日本 中文 東京 你好 世界 привет мир спасибо ☃ ★ €".split()
PUNCT = [".", "!", "?", ",", ":", ";", "...", "'s", "(ok)", "\"yes\""]


def make_corpus(rng: random.Random) -> list:
    words = COMMON + [w.capitalize() for w in COMMON[:40]]
    words += ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(500)]
    sentences = []
    for _ in range(6000):
        parts = [rng.choice(words) for _ in range(rng.randint(3, 16))]
        if rng.random() < 0.15:
            parts.insert(rng.randrange(len(parts)), rng.choice(FOREIGN))
        if rng.random() < 0.2:
            parts.insert(rng.randrange(len(parts)), str(rng.randint(0, 10**rng.randint(1, 7))))
        if rng.random() < 0.15:
            parts.insert(0, rng.choice(TEMPLATE_WORDS))
        text = " ".join(parts)
        if rng.random() < 0.3:
            text = text[0].upper() + text[1:]
        text += rng.choice(PUNCT)
        if rng.random() < 0.2:  # code-like indentation and blank lines
            text += "\n" + " " * rng.choice([2, 4, 8]) + " ".join(rng.choice(words) for _ in range(3))
        if rng.random() < 0.1:
            text += "\n\n" + rng.choice(words)
        if rng.random() < 0.08:
            text += "\t" * rng.randint(1, 2) + rng.choice(words)
        if rng.random() < 0.05:
            text = "  " + text
        sentences.append(text)
    return sentences


def train_model(out_dir: Path) -> None:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(make_corpus(random.Random(SEED))),
        model_writer=model,
        model_type="bpe",
        vocab_size=VOCAB_SIZE,
        character_coverage=1.0,
        byte_fallback=True,
        split_digits=True,
        normalization_rule_name="identity",
        add_dummy_prefix=False,
        remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3,
        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
        control_symbols=["<mask>"],
        user_defined_symbols=TURN_TOKENS,
        num_threads=1,
        minloglevel=2,
    )
    (out_dir / "tokenizer.model").write_bytes(model.getvalue())


def added_token(content: str, special: bool) -> dict:
    return {"content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
            "special": special}


def write_hf_files(out_dir: Path, sp: spm.SentencePieceProcessor) -> None:
    """tokenizer_config.json / special_tokens_map.json as transformers 4.38 GemmaTokenizer.save_pretrained writes them
    for gemma-2b: every control and user-defined piece is an added token; the turn markers are special."""
    decoder = {}
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_control(i) or sp.is_unknown(i) or piece in TURN_TOKENS:
            decoder[str(i)] = added_token(piece, True)
    config = {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": decoder,
        "additional_special_tokens": TURN_TOKENS,
        "bos_token": "<bos>",
        "clean_up_tokenization_spaces": False,
        "eos_token": "<eos>",
        "legacy": None,
        "model_max_length": 1000000000000000019884624838656,
        "pad_token": "<pad>",
        "sp_model_kwargs": {},
        "spaces_between_special_tokens": False,
        "tokenizer_class": "GemmaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }
    special_map = {"additional_special_tokens": TURN_TOKENS}
    for key, content in [("bos_token", "<bos>"), ("eos_token", "<eos>"), ("pad_token", "<pad>"),
                         ("unk_token", "<unk>")]:
        entry = added_token(content, True)
        del entry["special"]
        special_map[key] = entry
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    (out_dir / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------------------------
# 3. three tokenizers that must agree
# ---------------------------------------------------------------------------------------------------------------
class SlowGemma438:
    """transformers 4.38 GemmaTokenizer (slow) with add_special_tokens=False, written out: PreTrainedTokenizer.tokenize
    splits on every added token (Trie: earliest, then longest match), GemmaTokenizer._tokenize is sp.encode (no
    prefix space), tokens become ids through the added-token map or sp.piece_to_id. _decode sp-decodes the runs
    between added tokens and inserts the added tokens' content."""

    def __init__(self, folder: Path):
        self.sp = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer.model"))
        config = json.loads((folder / "tokenizer_config.json").read_text())
        self.added = {int(i): t["content"] for i, t in config["added_tokens_decoder"].items()}
        self.added_ids = {c: i for i, c in self.added.items()}
        assert not any(t["lstrip"] or t["rstrip"] for t in config["added_tokens_decoder"].values())
        self.trie = Trie()
        for content in self.added_ids:
            self.trie.add(content)

    def encode(self, text: str) -> list:
        ids = []
        for chunk in self.trie.split(text):
            if not chunk:
                continue
            if chunk in self.added_ids:
                ids.append(self.added_ids[chunk])
            else:
                ids += [self.sp.piece_to_id(p) for p in self.sp.encode(chunk, out_type=str)]
        return ids

    def decode(self, ids: list) -> str:
        out, run = [], []
        for i in ids:
            if i in self.added:
                if run:
                    out.append(self.sp.decode(run))
                out.append(self.added[i])
                run = []
            else:
                run.append(i)
        if run:
            out.append(self.sp.decode(run))
        return "".join(out)


def test_strings() -> list:
    rng = random.Random(SEED + 1)
    long_parts = []
    while sum(len(p) for p in long_parts) < 10000:
        long_parts.append(rng.choice(COMMON + FOREIGN + ["\n", "  ", "\t", "2024", "<start_of_turn>", "🙂"]))
    long_text = " ".join(long_parts)[:10000]
    return [
        "",
        "Hello world",
        "Hello this is a test",
        "hello",
        " leading space",
        "  two leading spaces",
        "trailing space ",
        "multiple   inner    spaces",
        "line one\nline two\n\nline four\n",
        "\n\n\n",
        "tab\tseparated\t\tvalues",
        "\t indented\n    code block\n\tmixed",
        "12345 and 3.14159 and 2024-02-23",
        "0",
        "café naïve Straße über",
        "日本語のテキストと中文混合",
        "你好，世界！",
        "привет мир",
        "emoji 🙂👍🏽 and flags 🇫🇷 end",
        "🙂",
        "zero\u200bwidth and \u00a0nbsp",
        "a piece marker ▁ inside ▁▁ text",
        "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
        "text before<start_of_turn>and after<end_of_turn>",
        "<start_of_turn><start_of_turn><end_of_turn>",
        "partial <start_of_tur and <end_of_turn",
        "<bos>literal bos and <eos> and <pad><unk><mask>",
        "<0x41> looks like a byte piece",
        "Human: hi\nAssistant: ",
        "### Instruction:\nSay hi\n\n### Response:\n",
        "mixed 123abc456 ✓ ★ € ☃",
        "\r\nwindows line\r\n",
        long_text,
    ]


# ---------------------------------------------------------------------------------------------------------------
# 4. LLaMA-Factory's templates (seed era: 2024-02-23 .. v0.5.3; gemma_current: >= v0.9.3)
# ---------------------------------------------------------------------------------------------------------------
BOS, EOS = ("bos",), ("eos",)  # element markers for {"bos_token"} / {"eos_token"}

TEMPLATES = {
    # LF 89f86cc97 (2024-02-23) .. v0.9.1
    "gemma": dict(user=["<start_of_turn>user\n{{content}}<end_of_turn>\n<start_of_turn>model\n"],
                  assistant=["{{content}}"], system=[BOS, "{{content}}"], separator=["<end_of_turn>\n"],
                  prefix=[], default_system="", force_system=True, efficient_eos=True, fuse_system=False,
                  eos_token=None),
    # LF >= v0.9.3: Llama2Template, prefix bos, system fused into the first user message, eos -> <end_of_turn>
    "gemma_current": dict(user=["<start_of_turn>user\n{{content}}<end_of_turn>\n<start_of_turn>model\n"],
                          assistant=["{{content}}<end_of_turn>\n"], system=["{{content}}\n\n"], separator=[],
                          prefix=[BOS], default_system="", force_system=False, efficient_eos=False,
                          fuse_system=True, eos_token="<end_of_turn>"),
    # LF v0.5.x default
    "default": dict(user=["Human: {{content}}\nAssistant: "], assistant=["{{content}}", EOS],
                    system=["{{content}}\n"], separator=["\n"], prefix=[], default_system="", force_system=False,
                    efficient_eos=False, fuse_system=False, eos_token=None),
    # LF v0.5.x alpaca (system formatter is the plain "{{content}}"; no blank line after the system prompt)
    "alpaca": dict(user=["### Instruction:\n{{content}}\n\n### Response:\n"], assistant=["{{content}}", EOS],
                   system=["{{content}}"], separator=["\n\n"], prefix=[],
                   default_system=("Below is an instruction that describes a task. "
                                   "Write a response that appropriately completes the request."),
                   force_system=False, efficient_eos=False, fuse_system=False, eos_token=None),
    # LF's empty (>= v0.8; the seed era's placeholder was `vanilla`): every slot is the bare text, no eos
    "empty": dict(user=["{{content}}"], assistant=["{{content}}"], system=["{{content}}"], separator=[], prefix=[],
                  default_system="", force_system=False, efficient_eos=False, fuse_system=False, eos_token=None),
}


def apply_slots(slots: list, **kwargs) -> list:
    """StringFormatter.apply: in each string slot, replace the first "{{name}}" for each kwarg in order."""
    out = []
    for slot in slots:
        if isinstance(slot, str):
            for name, value in kwargs.items():
                slot = slot.replace("{{" + name + "}}", value, 1)
        out.append(slot)
    return out


def elements_to_ids(tok, elements: list, eos_id: int) -> list:
    ids = []
    for e in elements:
        if e == BOS:
            ids.append(tok.bos_token_id)
        elif e == EOS:
            ids.append(eos_id)
        elif len(e) != 0:
            ids += tok.encode(e, add_special_tokens=False)
    return ids


def infer_max_len(source_len: int, target_len: int, max_len: int, reserved_label_len: int) -> tuple:
    max_target_len = int(max_len * (target_len / (source_len + target_len)))
    max_target_len = max(max_target_len, reserved_label_len)
    return max_len - max_target_len, max_target_len


def lf_encode_multiturn(tok, name: str, messages: list, system: str, cutoff_len: int) -> list:
    t = TEMPLATES[name]
    eos_id = tok.convert_tokens_to_ids(t["eos_token"]) if t["eos_token"] else tok.eos_token_id
    system = system or t["default_system"]
    encoded = []
    for i, message in enumerate(messages):
        elements, system_text = [], ""
        if i == 0:
            elements += t["prefix"]
            if system or t["force_system"]:
                if t["fuse_system"]:
                    system_text = apply_slots(t["system"], content=system)[0]
                else:
                    elements += apply_slots(t["system"], content=system)
        elif i % 2 == 0:
            elements += t["separator"]
        if message["role"] == "user":
            if t["fuse_system"]:  # Llama2Template passes no idx
                elements += apply_slots(t["user"], content=system_text + message["content"])
            else:
                elements += apply_slots(t["user"], content=message["content"], idx=str(i // 2))
        else:
            elements += apply_slots(t["assistant"], content=message["content"])
        encoded.append(elements_to_ids(tok, elements, eos_id))
    pairs, total, float_cut = [], 0, False
    for i in range(0, len(encoded), 2):
        if total >= cutoff_len:
            break
        budget = cutoff_len - total
        max_source, max_target = infer_max_len(len(encoded[i]), len(encoded[i + 1]), budget, 1)
        source, target = encoded[i][:max_source], encoded[i + 1][:max_target]
        # float rounding: budget == s + t exactly, yet int(budget * (t / (s + t))) == t - 1 cuts the target
        float_cut |= len(encoded[i]) + len(encoded[i + 1]) <= budget and len(target) < len(encoded[i + 1])
        total += len(source) + len(target)
        pairs.append({"source": source, "target": target})
    return pairs, float_cut


def conversations() -> list:
    def msgs(*texts):
        return [{"role": "user" if k % 2 == 0 else "assistant", "content": c} for k, c in enumerate(texts)]

    long_q = ("Describe the river that runs through the capital city and why people like it so much " * 2).strip()
    long_a = ("The river is long and blue and the people go there each day because the water is clean " * 2).strip()
    return [
        ("single", "", msgs("What is the capital of France?", "Paris is the capital.")),
        ("single_system", "You are a helpful assistant.", msgs("Say hello.", "Hello!")),
        ("multi_system", "Answer briefly.", msgs("Hi there", "Hello.", "What is 2+2?", "4", "And 3+3?", "6")),
        ("multi_unicode", "", msgs("café 日本 🙂", "ok ★", "tabs\tand\nnewlines  here", "fine\n")),
        ("specials_in_text", "", msgs("say <start_of_turn> and {{idx}} and {{content}}", "<end_of_turn> done",
                                      "turn {{idx}} now", "ok")),
        ("empty_answer", "", msgs("Anything?", "")),
        ("long", "Be concise.", msgs(long_q, long_a, long_q, long_a, "Last one?", "Yes.")),
    ]


def cutoffs_for(tok, name, system, messages) -> list:
    """The default cutoff, the untruncated total (exactly fitting), and budgets that cut turn 1 or drop later turns."""
    full, _ = lf_encode_multiturn(tok, name, messages, system, 1_000_000)
    total = sum(len(p["source"]) + len(p["target"]) for p in full)
    first = len(full[0]["source"]) + len(full[0]["target"])
    picks = [1_000_000, total, first, max(first - 3, 1), max(first // 3, 1), 1]
    return sorted(set(picks), reverse=True)


def to_json_lines(doc: dict) -> str:
    """JSON with one line per top-level key and per list item / dict entry below it: small and still diffable."""
    dump = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    lines = []
    for key, value in doc.items():
        if isinstance(value, list):
            inner = ",\n".join("  " + dump(v) for v in value)
            lines.append(f" {dump(key)}:[\n{inner}\n ]")
        elif isinstance(value, dict) and key in ("conversations",):
            inner = ",\n".join(f"  {dump(k)}:{dump(v)}" for k, v in value.items())
            lines.append(f" {dump(key)}:{{\n{inner}\n }}")
        else:
            lines.append(f" {dump(key)}:{dump(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


# ---------------------------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "tests" / "data" / "tokenizer"))
    args = ap.parse_args()
    out_dir = Path(args.out)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train_model(work)
        sp = spm.SentencePieceProcessor(model_file=str(work / "tokenizer.model"))
        for piece, i in SPECIALS.items():
            assert sp.id_to_piece(i) == piece, (piece, i)
        turn_ids = {t: sp.piece_to_id(t) for t in TURN_TOKENS}
        assert turn_ids == {"<start_of_turn>": 5, "<end_of_turn>": 6}, turn_ids
        write_hf_files(work, sp)

        slow = SlowGemma438(work)
        backend = SentencePieceBackend.from_pretrained(str(work), legacy=True)  # plain sp.encode
        fast = GemmaTokenizer.from_pretrained(str(work))
        assert fast.bos_token_id == 2 and fast.eos_token_id == 1 and fast.pad_token_id == 0

        encode_cases = []
        for text in test_strings():
            ids = slow.encode(text)
            ids_backend = backend.encode(text, add_special_tokens=False)
            ids_fast = fast.encode(text, add_special_tokens=False)
            if not (ids == ids_backend == ids_fast):
                print(f"tokenizers disagree on {text[:60]!r}:\n slow    {ids[:40]}\n backend {ids_backend[:40]}\n"
                      f" fast    {ids_fast[:40]}", file=sys.stderr)
                return 1
            decoded = slow.decode(ids)
            decoded_fast = fast.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
            if decoded != decoded_fast:
                print(f"decoders disagree on {text[:60]!r}: {decoded!r} vs {decoded_fast!r}", file=sys.stderr)
                return 1
            encode_cases.append({"text": text, "ids": ids, "decoded": decoded})

        template_cases, float_cuts = [], 0
        for name in TEMPLATES:
            for conv_name, system, messages in conversations():
                for cutoff in cutoffs_for(fast, name, system, messages):
                    turns, float_cut = lf_encode_multiturn(fast, name, messages, system, cutoff)
                    float_cuts += float_cut
                    template_cases.append({"template": name, "conversation": conv_name, "cutoff_len": cutoff,
                                           "float_cut": float_cut, "turns": turns})
        if float_cuts == 0:
            print("no template case exercises infer_max_len's float rounding; adjust the conversations",
                  file=sys.stderr)
            return 1

        expected = {
            "generator": "tools/reference/make_tokenizer_golden.py",
            "versions": {"transformers": transformers.__version__, "sentencepiece": spm.__version__},
            "vocab_size": sp.get_piece_size(),
            "special_ids": {"pad": 0, "eos": 1, "bos": 2, "unk": 3, "mask": 4, **turn_ids},
            "template_eos_ids": {name: (turn_ids[t["eos_token"]] if t["eos_token"] else 1)
                                 for name, t in TEMPLATES.items()},
            "template_efficient_eos": {name: t["efficient_eos"] for name, t in TEMPLATES.items()},
            "encode": encode_cases,
            "conversations": {name: {"system": system, "messages": messages}
                              for name, system, messages in conversations()},
            "templates": template_cases,
        }

        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ["tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]:
            shutil.copyfile(work / name, out_dir / name)
        (out_dir / "expected.json").write_text(to_json_lines(expected))
    print(f"wrote {out_dir}: {len(encode_cases)} strings, {len(template_cases)} template cases "
          f"({float_cuts} hit infer_max_len's float rounding)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
