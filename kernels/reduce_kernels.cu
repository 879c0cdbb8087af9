// Dispatch of reduction collectives to the per-dtype instantiations.
#include "launch.h"

namespace tutti {
namespace reduce_detail {
template <typename T>
cudaError_t launchTyped(const GpuCollArgs& a, CombineKind combine, cudaStream_t stream);
}  // namespace reduce_detail

cudaError_t launchReduceKernel(const GpuCollArgs& a, tuttiDataType_t dtype, CombineKind combine,
                               cudaStream_t stream) {
  cudaError_t err = cudaErrorInvalidValue;
  dispatchType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::Type;
    err = reduce_detail::launchTyped<T>(a, combine, stream);
  });
  return err;
}

}  // namespace tutti
