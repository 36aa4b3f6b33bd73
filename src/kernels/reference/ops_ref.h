// Scalar reference twins of every op in kernels/cpu/ops.h (namespace tune::ref, templated on float/double):
// plain loops straight from the math, used as the oracle in tests.
#pragma once

#include "kernels/reference/attention_ref.h"
#include "kernels/reference/bias_ref.h"
#include "kernels/reference/cross_entropy_ref.h"
#include "kernels/reference/dropout_ref.h"
#include "kernels/reference/embedding_ref.h"
#include "kernels/reference/geglu_ref.h"
#include "kernels/reference/linear_ref.h"
#include "kernels/reference/lowrank_ref.h"
#include "kernels/reference/rmsnorm_ref.h"
#include "kernels/reference/rope_ref.h"
