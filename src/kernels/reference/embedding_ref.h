// Scalar reference for the token embedding lookup (with the caller's scale), the oracle for cpu/embedding.cpp.
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/error.h"

namespace tune::ref {

// out[N,H] = table[ids[n], :] * scale; an id outside [0, V) throws tune::Error.
template <class T>
void embedding_forward(T* out, const int32_t* ids, const T* table, int N, int H, int V, std::type_identity_t<T> scale) {
  for (int n = 0; n < N; ++n) {
    const int32_t id = ids[n];
    TUNE_CHECK(id >= 0 && id < V, "embedding: token id ", id, " at position ", n, " is outside the vocabulary [0, ", V,
               "); check that the tokenizer matches the model");
    for (int c = 0; c < H; ++c) out[int64_t(n) * H + c] = table[int64_t(id) * H + c] * scale;
  }
}

}  // namespace tune::ref
