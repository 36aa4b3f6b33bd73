// Dequantization of GGML blocks to fp32, operation for operation as gguf-py's quants.py does it in numpy fp32:
// fp16 scales widened exactly (NaN payloads kept), integers converted exactly, then the same products and sums in
// the same order. The products of an fp16 scale and a small integer are exact in fp32, so only the final add or
// subtract rounds; this file is still compiled with -ffp-contract=off (CMakeLists.txt) so that no fused d*q - m can
// differ from numpy's two operations, and with -O3 so that the per-block loops are vectorized.
#include "kernels/cpu/dequant.h"

#include <bit>
#include <cstring>

#include "core/error.h"

namespace tune::cpu {
namespace {

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// IEEE half to float, exact; NaNs keep their payload unquieted, as numpy's astype(np.float32) does.
float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t man = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: man * 2^-24 = 1.f * 2^(top - 24), top = the highest set bit of man
    const auto top = static_cast<uint32_t>(31 - std::countl_zero(man));
    bits = sign | ((top + 103) << 23) | ((man << (23 - top)) & 0x7FFFFFu);
  }
  return std::bit_cast<float>(bits);
}

float fp16_at(const uint8_t* p) { return fp16_to_fp32(load_u16(p)); }

// The 4-bit value of element j (0..31) of a 32-element block: the low nibbles of qs[0..15], then the high ones.
inline int q4_value(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4); }

// Q4_0 [d f16][qs 16]: element j is the low nibble of qs[j], element j+16 the high one; d * (q - 8).
void block_q4_0(const uint8_t* b, float* y) {
  const float d = fp16_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(q4_value(qs, j) - 8);
}

// Q4_1 [d f16][m f16][qs 16]: (d * q) + m.
void block_q4_1(const uint8_t* b, float* y) {
  const float d = fp16_at(b), m = fp16_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(q4_value(qs, j)) + m;
}

// The 5-bit value of element j (0..31) of a Q5_0/Q5_1 block: the nibble, and bit j of qh as bit 4.
inline int q5_value(const uint8_t* qs, uint32_t qh, int j) {
  return q4_value(qs, j) | static_cast<int>(((qh >> j) & 1u) << 4);
}

// Q5_0 [d f16][qh u32][qs 16]: d * (q - 16).
void block_q5_0(const uint8_t* b, float* y) {
  const float d = fp16_at(b);
  const uint32_t qh = load_u32(b + 2);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(q5_value(qs, qh, j) - 16);
}

// Q5_1 [d f16][m f16][qh u32][qs 16]: (d * q) + m.
void block_q5_1(const uint8_t* b, float* y) {
  const float d = fp16_at(b), m = fp16_at(b + 2);
  const uint32_t qh = load_u32(b + 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(q5_value(qs, qh, j)) + m;
}

// Q8_0 [d f16][qs int8 32]: q * d.
void block_q8_0(const uint8_t* b, float* y) {
  const float d = fp16_at(b);
  const auto* qs = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(qs[j]) * d;
}

// The 8 six-bit scales and mins of a Q4_K/Q5_K super-block from its 12 packed bytes (Q4_K.get_scale_min):
// bytes 0..3 hold scales 0..3 (low 6 bits) and the top bits of scales 4..7; bytes 4..7 the same for the mins;
// bytes 8..11 the low nibbles of scales 4..7 (low half) and mins 4..7 (high half).
void k_scale_min(const uint8_t* s, int* sc, int* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 0x3F;
    mn[j] = s[j + 4] & 0x3F;
    sc[j + 4] = (s[j + 8] & 0x0F) | ((s[j] >> 2) & 0x30);
    mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 2) & 0x30);
  }
}

// Q4_K [d f16][dmin f16][scales 12][qs 128], 8 sub-blocks of 32: sub-block k takes nibble k%2 of qs[32*(k/2) + l];
// (d * sc[k]) * q - (dmin * m[k]).
void block_q4_k(const uint8_t* b, float* y) {
  const float d = fp16_at(b), dmin = fp16_at(b + 2);
  int sc[8], mn[8];
  k_scale_min(b + 4, sc, mn);
  const uint8_t* qs = b + 16;
  for (int k = 0; k < 8; ++k) {
    const float ds = d * static_cast<float>(sc[k]);
    const float dm = dmin * static_cast<float>(mn[k]);
    const uint8_t* q = qs + 32 * (k / 2);
    const int shift = 4 * (k % 2);
    float* out = y + 32 * k;
    for (int l = 0; l < 32; ++l) out[l] = ds * static_cast<float>((q[l] >> shift) & 0x0F) - dm;
  }
}

// Q5_K [d f16][dmin f16][scales 12][qh 32][qs 128]: as Q4_K, with bit k of qh[l] as bit 4 of sub-block k's values.
void block_q5_k(const uint8_t* b, float* y) {
  const float d = fp16_at(b), dmin = fp16_at(b + 2);
  int sc[8], mn[8];
  k_scale_min(b + 4, sc, mn);
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + 48;
  for (int k = 0; k < 8; ++k) {
    const float ds = d * static_cast<float>(sc[k]);
    const float dm = dmin * static_cast<float>(mn[k]);
    const uint8_t* q = qs + 32 * (k / 2);
    const int shift = 4 * (k % 2);
    float* out = y + 32 * k;
    for (int l = 0; l < 32; ++l) {
      const int v = ((q[l] >> shift) & 0x0F) | (((qh[l] >> k) & 1) << 4);
      out[l] = ds * static_cast<float>(v) - dm;
    }
  }
}

// Q6_K [ql 128][qh 64][scales int8 16][d f16]: element 128g + 32s + l (g in 0..1, s in 0..3, l in 0..31) takes
// nibble s/2 of ql[64g + 32(s%2) + l] and bits 2s..2s+1 of qh[32g + l] as bits 4..5; (d * scale[i/16]) * (q - 32).
void block_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const auto* scales = reinterpret_cast<const int8_t*>(b + 192);
  const float d = fp16_at(b + 208);
  float ds[16];
  for (int i = 0; i < 16; ++i) ds[i] = d * static_cast<float>(scales[i]);
  for (int g = 0; g < 2; ++g) {
    for (int s = 0; s < 4; ++s) {
      const uint8_t* low = ql + 64 * g + 32 * (s % 2);
      const int low_shift = 4 * (s / 2);
      const uint8_t* high = qh + 32 * g;
      float* out = y + 128 * g + 32 * s;
      const float d0 = ds[(128 * g + 32 * s) / 16], d1 = ds[(128 * g + 32 * s) / 16 + 1];
      for (int l = 0; l < 32; ++l) {
        const int v = ((low[l] >> low_shift) & 0x0F) | (((high[l] >> (2 * s)) & 3) << 4);
        out[l] = (l < 16 ? d0 : d1) * static_cast<float>(v - 32);
      }
    }
  }
}

template <void (*Block)(const uint8_t*, float*)>
void blocks(const uint8_t* src, float* dst, int64_t n_blocks, int64_t block_bytes, int64_t block_size) {
  for (int64_t i = 0; i < n_blocks; ++i) Block(src + i * block_bytes, dst + i * block_size);
}

}  // namespace

void dequantize_row(GgmlType type, const uint8_t* src, float* dst, int64_t n) {
  const GgmlTypeInfo& info = ggml_type_info(type);
  TUNE_CHECK(n >= 0 && n % info.block_size == 0, "dequantize_row: ", n, " elements are not a whole number of ",
             info.name, " blocks of ", info.block_size);
  const int64_t nb = n / info.block_size;
  switch (type) {
    case GgmlType::F32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_at(src + 2 * i);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = std::bit_cast<float>(static_cast<uint32_t>(load_u16(src + 2 * i)) << 16);
      return;
    case GgmlType::Q4_0: return blocks<block_q4_0>(src, dst, nb, info.block_bytes, info.block_size);
    case GgmlType::Q4_1: return blocks<block_q4_1>(src, dst, nb, info.block_bytes, info.block_size);
    case GgmlType::Q5_0: return blocks<block_q5_0>(src, dst, nb, info.block_bytes, info.block_size);
    case GgmlType::Q5_1: return blocks<block_q5_1>(src, dst, nb, info.block_bytes, info.block_size);
    case GgmlType::Q8_0: return blocks<block_q8_0>(src, dst, nb, info.block_bytes, info.block_size);
    case GgmlType::Q4_K: return blocks<block_q4_k>(src, dst, nb, info.block_bytes, info.block_size);
    case GgmlType::Q5_K: return blocks<block_q5_k>(src, dst, nb, info.block_bytes, info.block_size);
    case GgmlType::Q6_K: return blocks<block_q6_k>(src, dst, nb, info.block_bytes, info.block_size);
  }
  fail("dequantize_row: unsupported ggml type ", static_cast<uint32_t>(type));
}

}  // namespace tune::cpu
