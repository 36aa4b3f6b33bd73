// Storage-type checks shared by the host launchers.
#include "kernels/cuda/storage.h"

#include "core/error.h"

namespace tune::cuda {

size_t storage_bytes(DType t, const char* op) {
  switch (t) {
    case DType::F32:
      return 4;
    case DType::BF16:
    case DType::F16:
      return 2;
    default:
      fail(op, ": the CUDA backend stores tensors as F32, BF16 or F16, not dtype #", static_cast<int>(t));
  }
}

}  // namespace tune::cuda
