// Tied LM head + causal-LM cross-entropy on the GPU, chunked over target tokens so logits exist only for one chunk
// of rows at a time (V = 256k for Gemma: the whole sequence's [N, V] fp32 logits never exist).
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/cuda/buffer.h"
#include "kernels/cuda/gemm.h"

namespace tune::cuda {

// Device buffers lm_head_cross_entropy keeps across calls (grown on demand, never zero-filled).
struct LmHeadWorkspace {
  DeviceBuffer<int64_t> rows;     // [n] flat position b*T + t of each valid target
  DeviceBuffer<int32_t> targets;  // [n] its label
  DeviceBuffer<float> losses;     // [n] its loss
  DeviceBuffer<char> h;           // [R, H] (t) the chunk's hidden rows
  DeviceBuffer<float> logits;     // [R, V] fp32
  DeviceBuffer<char> dlogits;     // [R, V] (t) grad_scale * (softmax - onehot)
  DeviceBuffer<float> dh;         // [R, H] fp32 the chunk's hidden-state gradient
};

// h[B,T,H] (t) final-normed hidden states, E[V,H] (t) the tied embedding; labels[B,T] int32 on the HOST. The target
// of position t is labels[b, t+1]; -100 is ignored; the last position has no target; another label outside [0, V) is
// a tune::Error. Returns the summed loss -log softmax(h.E^T)[target] over valid targets and writes their count to
// *n_valid. When dh != nullptr: dh[B,T,H] (t) += grad_scale * d(sum loss)/dh. Waits for the device.
// chunk_rows: targets per chunk (0 picks about 256 MiB of chunk logits). ws: reused buffers (a local set when null).
double lm_head_cross_entropy(Blas& blas, void* dh, const void* h, const void* E, const int32_t* labels, int B, int T,
                             int H, int V, float grad_scale, int64_t* n_valid, DType t, LmHeadWorkspace* ws = nullptr,
                             int chunk_rows = 0);

}  // namespace tune::cuda
