// Reduction kernels for the int dtypes (see reduce_kernel.cuh).
#include "reduce_kernel.cuh"

namespace tutti {
namespace reduce_detail {
template cudaError_t launchTyped<int8_t>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<uint8_t>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<int32_t>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<uint32_t>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<int64_t>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<uint64_t>(const GpuCollArgs&, CombineKind, cudaStream_t);
}  // namespace reduce_detail
}  // namespace tutti
