// Dispatch of the reduction algorithms to their per-dtype instantiations.
#include "launch.h"

namespace tutti {
namespace reduce_detail {
template <typename T>
cudaError_t launchOneShotAllReduceTyped(const GpuCollArgs&, CombineKind, cudaStream_t);
template <typename T>
cudaError_t launchTwoShotAllReduceTyped(const GpuCollArgs&, CombineKind, cudaStream_t);
template <typename T>
cudaError_t launchReduceScatterTyped(const GpuCollArgs&, CombineKind, cudaStream_t);
template <typename T>
cudaError_t launchReduceTyped(const GpuCollArgs&, CombineKind, cudaStream_t);
}  // namespace reduce_detail

#define TUTTI_DISPATCH_REDUCTION(Name)                                                 \
  cudaError_t launch##Name(const GpuCollArgs& a, tuttiDataType_t dtype, CombineKind k, \
                           cudaStream_t stream) {                                      \
    cudaError_t err = cudaErrorInvalidValue;                                           \
    dispatchType(dtype, [&](auto tag) {                                                \
      using T = typename decltype(tag)::Type;                                          \
      err = reduce_detail::launch##Name##Typed<T>(a, k, stream);                       \
    });                                                                                \
    return err;                                                                        \
  }

TUTTI_DISPATCH_REDUCTION(OneShotAllReduce)
TUTTI_DISPATCH_REDUCTION(TwoShotAllReduce)
TUTTI_DISPATCH_REDUCTION(ReduceScatter)
TUTTI_DISPATCH_REDUCTION(Reduce)

}  // namespace tutti
