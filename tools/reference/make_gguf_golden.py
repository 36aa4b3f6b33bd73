#!/usr/bin/env python3
"""Generates the GGUF fixtures in tests/data/gguf with the `gguf` package (gguf-py, llama.cpp's Python library).

    python3 tools/reference/make_gguf_golden.py [--out tests/data/gguf] [--models ~/.cache/tune/gguf]

Writes (deterministic: fixed seeds, numpy fp32):
- dequant/<TYPE>.raw + dequant/<TYPE>.f32 for the 11 types tune.cpp reads: a few blocks of raw bytes and what
  gguf.quants.dequantize makes of them (little-endian fp32). Types with a numpy quantizer get quantized random data
  of several magnitudes; the K-quants get random bytes with sane fp16 super-block scales. Each type also gets blocks
  with extreme scales (fp16 max, subnormal, -0, inf, NaN with a payload).
- dequant/meta.json: the element count per type and the FNV-1a 64 hash of the fp32 bits numpy gives for all 65536
  fp16 values (the C++ test converts all of them and compares the hash).
- python_written.gguf + python_written.json: a file written by gguf.GGUFWriter with metadata of every value type
  (scalars, arrays of ints, floats, bools and strings), a custom alignment and tensors of several types, and what a
  reader must report for it (read back with gguf.GGUFReader): each key's type and value, each tensor's type, ne,
  offset, byte count and dequantized values.
- real_gguf.json (when the real models are present): for the two real GGUF models (scripts/fetch_models.sh), a few
  metadata values, tensor counts per type, and for tensors of different types the sequential float64 sum of the
  dequantized values and some sampled elements.
"""
import argparse
import json
import os
from pathlib import Path

import gguf
import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"]
QUANTIZABLE = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"}  # numpy quantizers in gguf.quants
# fp16 scales the extreme blocks use: max, min subnormal, largest subnormal, -0, 1, inf, -inf, a payload NaN.
EXTREME_F16 = [0x7BFF, 0x0001, 0x03FF, 0x8000, 0x3C00, 0x7C00, 0xFC00, 0x7E55]

# Where the fp16 scales sit in each block: (offset of d, offset of the min/dmin or None).
SCALE_OFFSETS = {
    "Q4_0": (0, None), "Q4_1": (0, 2), "Q5_0": (0, None), "Q5_1": (0, 2), "Q8_0": (0, None),
    "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208, None),
}


def fnv1a64(words) -> int:
    h = 0xCBF29CE484222325
    for w in words:
        for byte in int(w).to_bytes(4, "little"):
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def set_f16(block: np.ndarray, offset: int, bits: int):
    block[offset:offset + 2] = np.array([bits], dtype="<u2").view(np.uint8)


def float_blocks(rng, qtype: str) -> np.ndarray:
    """Raw bytes for F32/F16/BF16: random values of several magnitudes plus special values."""
    x = (rng.standard_normal(224) * np.repeat([1e-3, 1.0, 30.0, 1e4], 56)).astype(np.float32)
    if qtype == "F32":
        special = np.array([0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0x80000000, 0x00000001, 0x7F7FFFFF,
                            0x807FFFFF], dtype=np.uint32).view(np.float32)
        return np.concatenate([x, np.resize(special, 32)]).view(np.uint8)
    if qtype == "F16":
        special = np.array(EXTREME_F16 + [0x7C01, 0xFE00, 0x0200, 0x8001], dtype=np.uint16).view(np.float16)
        return np.concatenate([x.astype(np.float16), np.resize(special, 32)]).view(np.uint8)
    special = np.array([0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0x8000, 0x0001, 0x7F7F, 0x807F], dtype=np.uint16)
    return np.concatenate([gguf.quants.quantize(x, Q.BF16).view(np.uint16), np.resize(special, 32)]).view(np.uint8)


def quant_blocks(rng, qtype: str) -> np.ndarray:
    """Raw bytes for a block type: a few ordinary blocks, then one block per extreme scale."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[Q[qtype]]
    d_off, m_off = SCALE_OFFSETS[qtype]
    if qtype in QUANTIZABLE:
        x = (rng.standard_normal(6 * block_size) * np.repeat([1e-3, 0.05, 1.0, 7.0, 100.0, 3e4], block_size))
        ordinary = gguf.quants.quantize(x.astype(np.float32), Q[qtype]).reshape(-1, type_size)
    else:  # random bytes with sane super-block scales (|d| in [1e-4, 0.1], dmin likewise)
        ordinary = rng.integers(0, 256, size=(3, type_size), dtype=np.uint8)
        for b in ordinary:
            set_f16(b, d_off, int(np.float16(rng.uniform(1e-4, 0.1) * rng.choice([-1, 1])).view(np.uint16)))
            if m_off is not None:
                set_f16(b, m_off, int(np.float16(rng.uniform(1e-4, 0.1)).view(np.uint16)))
    extreme = rng.integers(0, 256, size=(len(EXTREME_F16), type_size), dtype=np.uint8)
    for i, b in enumerate(extreme):
        set_f16(b, d_off, EXTREME_F16[i])
        if m_off is not None:  # a finite min unless d is infinite (then the opposite infinity: inf - inf paths)
            m_bits = {0x7C00: 0xFC00, 0xFC00: 0x7C00}.get(EXTREME_F16[i], EXTREME_F16[(i + 3) % 5])
            set_f16(b, m_off, m_bits)
    return np.concatenate([ordinary, extreme]).reshape(-1)


def write_dequant(out: Path, rng):
    d = out / "dequant"
    d.mkdir(parents=True, exist_ok=True)
    meta = {"types": {}}
    for qtype in TYPES:
        raw = float_blocks(rng, qtype) if qtype in ("F32", "F16", "BF16") else quant_blocks(rng, qtype)
        values = gguf.quants.dequantize(raw, Q[qtype]).astype(np.float32, copy=False).reshape(-1)
        (d / f"{qtype}.raw").write_bytes(raw.tobytes())
        (d / f"{qtype}.f32").write_bytes(values.astype("<f4").tobytes())
        block_size, type_size = gguf.GGML_QUANT_SIZES[Q[qtype]]
        meta["types"][qtype] = {"number": int(Q[qtype]), "block_size": block_size, "type_size": type_size,
                                "elements": int(values.size), "raw_bytes": int(raw.size)}
    all_f16 = np.arange(65536, dtype=np.uint16).view(np.float16)
    meta["f16_all_fnv1a64"] = f"{fnv1a64(gguf.quants.dequantize(all_f16, Q.F16).view(np.uint32)):016x}"
    meta["gguf_version"] = gguf_version()
    (d / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


def gguf_version() -> str:
    from importlib.metadata import version
    return version("gguf")


def value_json(field: gguf.ReaderField):
    """A reader field as {type, elem_type?, value}; floats as their exact repr, strings as UTF-8 text."""
    types = [t.name for t in field.types]
    if field.types[0] == V.ARRAY:
        elem = field.types[1]
        if elem == V.STRING:
            vals = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
        elif elem in (V.FLOAT32, V.FLOAT64):
            vals = [float(field.parts[i][0]) for i in field.data]
        elif elem == V.BOOL:
            vals = [bool(field.parts[i][0]) for i in field.data]
        else:
            vals = [int(field.parts[i][0]) for i in field.data]
        return {"type": "ARRAY", "elem_type": elem.name, "value": vals}
    v = field.contents()
    if isinstance(v, (np.floating, float)) or field.types[0] in (V.FLOAT32, V.FLOAT64):
        v = float(v)
    elif field.types[0] == V.BOOL:
        v = bool(v)
    elif field.types[0] != V.STRING:
        v = int(v)
    return {"type": types[0], "value": v}


def write_python_gguf(out: Path, rng):
    path = out / "python_written.gguf"
    w = gguf.GGUFWriter(str(path), "llama")  # adds general.architecture = "llama"
    w.add_custom_alignment(64)
    w.add_uint8("test.u8", 250)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 65000)
    w.add_int16("test.i16", -32000)
    w.add_uint32("test.u32", 4_000_000_000)
    w.add_int32("test.i32", -2_000_000_000)
    w.add_float32("test.f32", 0.1)
    w.add_uint64("test.u64", 2**63 + 5)
    w.add_int64("test.i64", -(2**62))
    w.add_float64("test.f64", 1 / 3)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo, GGUF ✓")
    w.add_key_value("test.strings", ["<s>", "", "▁the", "\n"], V.ARRAY, sub_type=V.STRING)
    w.add_key_value("test.i32s", [-1, 0, 7, 2**31 - 1], V.ARRAY, sub_type=V.INT32)
    w.add_key_value("test.u8s", [0, 255, 3], V.ARRAY, sub_type=V.UINT8)
    w.add_key_value("test.u64s", [2**40, 1], V.ARRAY, sub_type=V.UINT64)
    w.add_key_value("test.f32s", [0.5, -0.1, 1e30], V.ARRAY, sub_type=V.FLOAT32)
    w.add_key_value("test.f64s", [0.1, -2.5], V.ARRAY, sub_type=V.FLOAT64)
    w.add_key_value("test.bools", [True, False, True], V.ARRAY, sub_type=V.BOOL)
    w.add_tensor("f32_matrix", rng.standard_normal((3, 5)).astype(np.float32))  # numpy (3, 5) = ggml ne [5, 3]
    w.add_tensor("f16_vector", rng.standard_normal(7).astype(np.float16))
    w.add_tensor("bf16_matrix", gguf.quants.quantize(rng.standard_normal((2, 4)).astype(np.float32), Q.BF16),
                 raw_dtype=Q.BF16)
    w.add_tensor("q8_0_matrix", gguf.quants.quantize(rng.standard_normal((2, 64)).astype(np.float32), Q.Q8_0),
                 raw_dtype=Q.Q8_0)
    q4k = rng.integers(0, 256, size=(2, 144), dtype=np.uint8)
    for b in q4k:
        set_f16(b, 0, int(np.float16(0.01).view(np.uint16)))
        set_f16(b, 2, int(np.float16(0.002).view(np.uint16)))
    w.add_tensor("q4_k_matrix", q4k, raw_dtype=Q.Q4_K)
    w.add_tensor("q5_1_3d", gguf.quants.quantize(rng.standard_normal((2, 3, 32)).astype(np.float32), Q.Q5_1),
                 raw_dtype=Q.Q5_1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    r = gguf.GGUFReader(str(path))
    expected = {"version": int(r.fields["GGUF.version"].parts[-1][0]), "alignment": int(r.alignment),
                "data_offset": int(r.data_offset), "metadata": {}, "tensors": []}
    for key, field in r.fields.items():
        if not key.startswith("GGUF."):
            expected["metadata"][key] = value_json(field)
    for t in r.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        expected["tensors"].append({
            "name": t.name, "type": t.tensor_type.name, "ne": [int(n) for n in t.shape],
            "offset": int(t.data_offset - r.data_offset), "nbytes": int(t.n_bytes),
            "values": [float(v) for v in values]})
    (out / "python_written.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


# The real-model tensors checked: one per type present (the smaller ones, so the test stays quick).
REAL_TENSORS = {
    "SmolLM2-135M-Instruct.Q4_1.gguf": ["blk.0.attn_q.weight", "token_embd.weight", "blk.0.attn_norm.weight"],
    "gemma-3-270m-q4_k_m.gguf": ["blk.0.attn_k.weight", "blk.1.attn_output.weight", "blk.0.ffn_down.weight",
                                 "blk.17.attn_v.weight", "output_norm.weight"],
}
REAL_KEYS = ["general.architecture", "general.name", "general.file_type", "{arch}.block_count",
             "{arch}.embedding_length", "{arch}.attention.head_count", "{arch}.attention.head_count_kv",
             "{arch}.rope.freq_base", "tokenizer.ggml.model", "tokenizer.ggml.bos_token_id"]
REAL_ARRAYS = ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"]


def write_real(out: Path, models: Path, rng):
    result = {}
    for file, names in REAL_TENSORS.items():
        path = models / file
        if not path.exists():
            raise SystemExit(f"{path} is missing: run scripts/fetch_models.sh first")
        r = gguf.GGUFReader(str(path))
        arch = r.fields["general.architecture"].contents()
        entry = {"metadata": {}, "array_lengths": {}, "tensor_count": len(r.tensors), "type_counts": {},
                 "tensors": []}
        for k in REAL_KEYS:
            key = k.format(arch=arch)
            entry["metadata"][key] = value_json(r.fields[key])
        for key in REAL_ARRAYS:
            if key in r.fields:
                entry["array_lengths"][key] = len(r.fields[key].data)
        for t in r.tensors:
            entry["type_counts"][t.tensor_type.name] = entry["type_counts"].get(t.tensor_type.name, 0) + 1
        by_name = {t.name: t for t in r.tensors}
        for name in names:
            t = by_name[name]
            values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
            # np.cumsum is strictly sequential: the same float64 additions, in order, as the C++ loop.
            total = float(np.cumsum(values.astype(np.float64))[-1])
            idx = sorted({0, values.size - 1, *rng.integers(0, values.size, size=6).tolist()})
            entry["tensors"].append({"name": name, "type": t.tensor_type.name, "ne": [int(n) for n in t.shape],
                                     "sum": total, "samples": [[int(i), float(values[i])] for i in idx]})
        result[file] = entry
    (out / "real_gguf.json").write_text(json.dumps(result, indent=1) + "\n")


def main():
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=root / "tests/data/gguf")
    ap.add_argument("--models", type=Path,
                    default=Path(os.environ.get("TUNE_GGUF_DIR", Path.home() / ".cache/tune/gguf")))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    np.seterr(all="ignore")  # inf * 0 in the extreme blocks is meant
    write_dequant(args.out, np.random.default_rng(11))
    write_python_gguf(args.out, np.random.default_rng(12))
    write_real(args.out, args.models, np.random.default_rng(13))


if __name__ == "__main__":
    main()
