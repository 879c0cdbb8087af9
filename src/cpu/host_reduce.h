// Element-wise math of the CPU executor, instantiated for every dtype from the functors in
// kernels/reduce_ops.h that the GPU kernels use too.
#pragma once

#include <cstddef>

#include "kernels/dtype_dispatch.h"

namespace tutti {

// How a reduction combines values. Avg combines by sum and divides at the end; PreMulSum
// scales each rank's own input by `scalar` (bytes of the dtype) before summing.
struct ReduceSpec {
  tuttiDataType_t dtype;
  CombineKind combine;
};

// dst[i] = combine(a[i], b[i]); dst may alias a or b.
void hostCombine(const ReduceSpec& spec, void* dst, const void* a, const void* b, size_t count);
// dst[i] = combine(srcs[0][i], ..., srcs[n-1][i]) in that order, rounding to the dtype once.
void hostCombineMany(const ReduceSpec& spec, void* dst, const void* const* srcs, int n,
                     size_t count);
// dst[i] = src[i] / divisor (tuttiAvg); integer division for integers.
void hostDivide(tuttiDataType_t dtype, void* dst, const void* src, size_t count, int divisor);
// dst[i] = src[i] * scalar, with `scalar` one element of dtype (PreMulSum).
void hostScale(tuttiDataType_t dtype, void* dst, const void* src, size_t count, const void* scalar);

}  // namespace tutti
