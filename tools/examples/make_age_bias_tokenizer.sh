#!/usr/bin/env bash
# Trains the age_bias example's SentencePiece tokenizer and writes it as HF's GemmaTokenizer saves a model folder.
#
#   tools/examples/make_age_bias_tokenizer.sh     (from anywhere; needs python3 and Debian's `sentencepiece` package)
#
# Steps: regenerate the dataset and its tokenizer corpus (tools/examples/make_age_bias.py --corpus), train a BPE model
# with Gemma's settings (byte fallback, split digits, identity normalizer, no dummy prefix, whitespace kept) on it,
# check the special ids, then write examples/age_bias/model/{tokenizer.model,tokenizer_config.json,
# special_tokens_map.json}. Ids: <pad> 0, <eos> 1, <bos> 2, <unk> 3, control <mask> 4 (as in real Gemma; without it
# transformers v5's GemmaTokenizer appends a <mask> token at id 2000), <start_of_turn> 5, <end_of_turn> 6 (real Gemma:
# 106 / 107), then the 256 byte pieces <0x00>..<0xFF> (7..262), then the learned pieces. One trainer thread and
# relative paths: two runs give byte-identical files (checked with sentencepiece 0.1.97).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/examples/age_bias/model"
vocab_size=2000
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 "$root/tools/examples/make_age_bias.py" --out "$root/examples/age_bias/data" --corpus "$work/corpus.txt"

# Relative paths: the trainer records its input and output names inside the model file.
(cd "$work" && spm_train --input=corpus.txt --model_prefix=tokenizer --model_type=bpe --vocab_size="$vocab_size" \
  --character_coverage=1.0 --byte_fallback=true --split_digits=true --normalization_rule_name=identity \
  --add_dummy_prefix=false --remove_extra_whitespaces=false --allow_whitespace_only_pieces=true \
  --pad_id=0 --eos_id=1 --bos_id=2 --unk_id=3 --pad_piece='<pad>' --eos_piece='<eos>' --bos_piece='<bos>' \
  --unk_piece='<unk>' --control_symbols='<mask>' --user_defined_symbols='<start_of_turn>,<end_of_turn>' --num_threads=1 --random_seed=42 --minloglevel=2)

# The config files below hard-code these ids; stop if the trainer put a piece elsewhere.
spm_export_vocab --model="$work/tokenizer.model" --output="$work/vocab.tsv"
expected=$'<pad>\n<eos>\n<bos>\n<unk>\n<mask>\n<start_of_turn>\n<end_of_turn>\n<0x00>'
actual="$(head -n 8 "$work/vocab.tsv" | cut -f1)"
if [[ "$actual" != "$expected" ]]; then
  echo "error: unexpected special-token ids in the trained model (first pieces: $(echo "$actual" | tr '\n' ' '))" >&2
  exit 1
fi
pieces="$(wc -l < "$work/vocab.tsv")"

mkdir -p "$out"
cp "$work/tokenizer.model" "$out/tokenizer.model"

added() {  # added_tokens_decoder entry: id content
  printf '    "%s": {\n      "content": "%s",\n      "lstrip": false,\n      "normalized": false,\n' "$1" "$2"
  printf '      "rstrip": false,\n      "single_word": false,\n      "special": true\n    }'
}
{
  printf '{\n  "add_bos_token": true,\n  "add_eos_token": false,\n  "added_tokens_decoder": {\n'
  added 0 '<pad>'; printf ',\n'; added 1 '<eos>'; printf ',\n'; added 2 '<bos>'; printf ',\n'
  added 3 '<unk>'; printf ',\n'; added 4 '<mask>'; printf ',\n'; added 5 '<start_of_turn>'; printf ',\n'
  added 6 '<end_of_turn>'; printf '\n'
  cat <<'EOF'
  },
  "additional_special_tokens": [
    "<start_of_turn>",
    "<end_of_turn>"
  ],
  "bos_token": "<bos>",
  "clean_up_tokenization_spaces": false,
  "eos_token": "<eos>",
  "legacy": null,
  "model_max_length": 1000000000000000019884624838656,
  "pad_token": "<pad>",
  "sp_model_kwargs": {},
  "spaces_between_special_tokens": false,
  "tokenizer_class": "GemmaTokenizer",
  "unk_token": "<unk>",
  "use_default_system_prompt": false
}
EOF
} > "$out/tokenizer_config.json"

special() {  # special_tokens_map.json entry: key content
  printf '  "%s": {\n    "content": "%s",\n    "lstrip": false,\n    "normalized": false,\n' "$1" "$2"
  printf '    "rstrip": false,\n    "single_word": false\n  }'
}
{
  printf '{\n  "additional_special_tokens": [\n    "<start_of_turn>",\n    "<end_of_turn>"\n  ],\n'
  special bos_token '<bos>'; printf ',\n'; special eos_token '<eos>'; printf ',\n'
  special pad_token '<pad>'; printf ',\n'; special unk_token '<unk>'; printf '\n}\n'
} > "$out/special_tokens_map.json"

echo "wrote $out/tokenizer.model ($pieces pieces), tokenizer_config.json, special_tokens_map.json"
