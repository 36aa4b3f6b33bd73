// The element types a device activation or weight buffer may be stored in: F32, BF16 or F16 (tune::DType).
#pragma once
#include <cstddef>

#include "core/dtype.h"

namespace tune::cuda {

// Bytes per element of a storage type; anything but F32/BF16/F16 is a tune::Error naming `op`.
size_t storage_bytes(DType t, const char* op);

}  // namespace tune::cuda
