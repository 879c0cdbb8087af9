// Reduction kernels for the float dtypes (see reduce_kernel.cuh).
#include "reduce_kernel.cuh"

namespace tutti {
namespace reduce_detail {
template cudaError_t launchTyped<float>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<double>(const GpuCollArgs&, CombineKind, cudaStream_t);
}  // namespace reduce_detail
}  // namespace tutti
