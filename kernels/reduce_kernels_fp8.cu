// Reduction kernels for the fp8 dtypes (see reduce_kernel.cuh).
#include "reduce_kernel.cuh"

namespace tutti {
namespace reduce_detail {
template cudaError_t launchTyped<Fp8E4M3>(const GpuCollArgs&, CombineKind, cudaStream_t);
template cudaError_t launchTyped<Fp8E5M2>(const GpuCollArgs&, CombineKind, cudaStream_t);
}  // namespace reduce_detail
}  // namespace tutti
