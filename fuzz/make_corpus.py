#!/usr/bin/env python3
"""Writes the small seed corpora under fuzz/corpus/<target>/ (stdlib only; rerun after changing a seed)."""
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent


def safetensors_bytes(header: str, data: bytes = b"", length=None) -> bytes:
    n = len(header.encode()) if length is None else length
    return struct.pack("<Q", n) + header.encode() + data


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def padded(header: str) -> str:
    return header + " " * ((8 - len(header.encode()) % 8) % 8)


def safetensors_seeds():
    f32 = struct.pack("<4f", 1.0, -2.5, 0.0, 3.0)
    yield "valid_f32", safetensors_bytes(
        padded(compact({"__metadata__": {"format": "pt"}, "w": entry("F32", [2, 2], 0, 16)})), f32)
    multi = {
        "__metadata__": {"format": "pt"},
        "s": entry("I64", [], 0, 8),
        "b": entry("BF16", [2], 8, 12),
        "h": entry("F16", [1, 1], 12, 14),
        "e": entry("F16", [0, 3], 14, 14),
        "q": entry("F8_E4M3", [2], 14, 16),
        "r": entry("F8_E5M2", [1], 16, 17),
        "u": entry("U8", [2], 17, 19),
        "t": entry("BOOL", [1], 19, 20),
        "d": entry("F64", [1], 20, 28),
    }
    data = (struct.pack("<q", 7) + struct.pack("<2H", 0x3F80, 0xC020) + struct.pack("<H", 0x3C00)
            + bytes([0x38, 0xFE, 0x7C, 1, 2, 1]) + struct.pack("<d", 0.5))
    yield "valid_multi", safetensors_bytes(padded(compact(multi)), data)
    # Out of offset order, header length not a multiple of 8, trailing spaces.
    yield "valid_unordered", safetensors_bytes(
        '{"b":{"dtype":"I32","shape":[1],"data_offsets":[2,6]},"a":{"dtype":"I16","shape":[],"data_offsets":[0,2]}}  ',
        b"\x01\x00\x02\x00\x00\x00")
    yield "valid_empty", safetensors_bytes("{}      ")
    yield "bad_truncated", safetensors_bytes(compact({"w": entry("F32", [2, 2], 0, 16)}), f32[:10])
    yield "bad_duplicate", safetensors_bytes(
        '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        f32[:4])
    yield "bad_gap", safetensors_bytes(compact({"w": entry("F32", [1], 4, 8)}), f32[:8])
    yield "bad_header_length", safetensors_bytes("{}", b"", length=1 << 40)


def config_seeds():
    gemma = {
        "architectures": ["GemmaForCausalLM"], "model_type": "gemma", "vocab_size": 256000, "hidden_size": 2048,
        "intermediate_size": 16384, "num_hidden_layers": 18, "num_attention_heads": 8, "num_key_value_heads": 1,
        "head_dim": 256, "hidden_act": "gelu", "max_position_embeddings": 8192, "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0, "tie_word_embeddings": True, "pad_token_id": 0, "eos_token_id": 1,
        "bos_token_id": 2, "torch_dtype": "bfloat16", "attention_bias": False,
    }
    yield "hf_gemma", b"\x00" + json.dumps(gemma, indent=2).encode()
    tiny = dict(gemma, vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, head_dim=16, hidden_activation="gelu_pytorch_tanh")
    yield "hf_gemma_tiny_exact_gelu", b"\x02" + json.dumps(tiny).encode()
    yield "hf_rope_scaling", b"\x00" + json.dumps(
        dict(tiny, rope_scaling={"rope_type": "linear", "factor": 8.0}, torch_dtype="float32")).encode()
    yield "hf_bad_type", b"\x00" + json.dumps(dict(tiny, hidden_size="64")).encode()
    adapter = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "google/gemma-2b", "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layers_pattern": None,
        "layers_to_transform": None, "loftq_config": {}, "lora_alpha": 16, "lora_dropout": 0.05,
        "megatron_config": None, "megatron_core": "megatron.core", "modules_to_save": None, "peft_type": "LORA",
        "r": 8, "rank_pattern": {}, "revision": None, "target_modules": ["q_proj", "v_proj"],
        "task_type": "CAUSAL_LM", "use_rslora": False,
    }
    yield "adapter_peft082", b"\x01" + json.dumps(adapter, indent=2, sort_keys=True).encode()
    yield "adapter_regex_patterns", b"\x01" + json.dumps(dict(
        adapter, target_modules=r".*\.(q_proj|k_proj)", rank_pattern={"q_proj": 4}, alpha_pattern={"k_proj": 2},
        use_rslora=True, use_dora=False)).encode()
    yield "adapter_null_targets", b"\x01" + json.dumps(dict(adapter, target_modules=None)).encode()
    yield "adapter_not_json", b"\x01{\"r\": 8, \"lora_alpha\": "


def chat_request_seeds():
    user = {"role": "user", "content": "Hi"}
    yield "plain", compact({"model": "rm", "messages": [user]}).encode()
    yield "all_fields", json.dumps({
        "messages": [{"role": "system", "content": "Be brief."}, user,
                     {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]}, user],
        "max_tokens": 5, "max_completion_tokens": 7, "temperature": 0.7, "top_p": 0.9, "seed": 42, "n": 1,
        "stream": True, "do_sample": False}).encode()
    yield "bad_types", compact({"messages": [{"role": 1, "content": "x"}], "top_p": "x", "max_tokens": 1e3}).encode()
    yield "part_type_number", compact({"messages": [{"role": "user", "content": [{"type": 5, "text": "x"}]}]}).encode()
    yield "tiny_top_p", compact({"messages": [user], "top_p": 1e-50}).encode()


def gguf_str(s: bytes) -> bytes:
    return struct.pack("<Q", len(s)) + s


def gguf_bytes(kvs, tensors, data: bytes, alignment=32, version=3) -> bytes:
    """GGUF bytes: kvs = [(key, type number, packed value)], tensors = [(name, ne, ggml type, offset)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += gguf_str(key.encode()) + struct.pack("<I", vtype) + value
    for name, ne, gtype, offset in tensors:
        out += gguf_str(name.encode()) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        out += struct.pack("<IQ", gtype, offset)
    out += b"\0" * (-len(out) % alignment)
    return out + data


def gguf_seeds():
    arch = ("general.architecture", 8, gguf_str(b"llama"))
    tokens = ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2) + gguf_str(b"<s>") + gguf_str(b"hi"))
    q8_0 = struct.pack("<H", 0x3C00) + bytes(range(32))
    yield "valid_q8_0_f32", gguf_bytes([arch, ("llama.block_count", 4, struct.pack("<I", 2)), tokens],
                                       [("w", [32, 2], 8, 0), ("v", [3], 0, 96)],
                                       q8_0 * 2 + b"\0" * 28 + struct.pack("<3f", 1.5, -2.0, 0.25))
    scalars = [("u8", 0, b"\xfa"), ("i8", 1, b"\x9c"), ("u16", 2, struct.pack("<H", 65000)),
               ("i16", 3, struct.pack("<h", -3)), ("u32", 4, struct.pack("<I", 7)), ("i32", 5, struct.pack("<i", -7)),
               ("f32", 6, struct.pack("<f", 0.1)), ("bool", 7, b"\x01"), ("u64", 10, struct.pack("<Q", 1 << 40)),
               ("i64", 11, struct.pack("<q", -5)), ("f64", 12, struct.pack("<d", 1 / 3)),
               ("ints", 9, struct.pack("<IQ3i", 5, 3, -1, 0, 9)), ("floats", 9, struct.pack("<IQ2f", 6, 2, 0.5, -1)),
               ("bools", 9, struct.pack("<IQ2B", 7, 2, 0, 1))]
    yield "valid_every_value_type", gguf_bytes(scalars, [], b"", version=2)
    # K-quant and 5-bit blocks with fp16 scales 1.0 (d) and 0.5 (dmin / m); alignment 64.
    q4_k = struct.pack("<2H", 0x3C00, 0x3800) + bytes(range(12)) + bytes(range(128))
    q6_k = bytes(range(128)) + bytes(range(64)) + bytes(range(16)) + struct.pack("<H", 0x3C00)
    q5_1 = struct.pack("<2HI", 0x3C00, 0x3800, 0xF0F0F0F0) + bytes(range(16))
    yield "valid_quant_align64", gguf_bytes(
        [("general.alignment", 4, struct.pack("<I", 64))],
        [("k", [256], 12, 0), ("s", [256], 14, 192), ("f", [32], 7, 448)],
        q4_k + b"\0" * 48 + q6_k + b"\0" * 46 + q5_1, alignment=64)
    yield "python_written", (HERE.parent / "tests/data/gguf/python_written.gguf").read_bytes()
    yield "bad_overlap", gguf_bytes([], [("a", [16], 0, 0), ("b", [8], 0, 32)], b"\0" * 96)
    yield "bad_count", gguf_bytes([arch], [], b"")[:8] + struct.pack("<QQ", 1 << 40, 1) + b"\0" * 16


def main():
    for target, seeds in (("fuzz_safetensors", safetensors_seeds()), ("fuzz_json_configs", config_seeds()),
                          ("fuzz_chat_request", chat_request_seeds()), ("fuzz_gguf", gguf_seeds())):
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in seeds:
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
