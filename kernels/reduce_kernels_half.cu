// Reduction kernels for the half dtypes (see reduce_kernel.cuh).
#include "reduce_kernel.cuh"

namespace tutti {
namespace reduce_detail {
template cudaError_t launchTyped<Half>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<BFloat16>(const GpuCollArgs&, CombineKind, cudaStream_t);
}  // namespace reduce_detail
}  // namespace tutti
