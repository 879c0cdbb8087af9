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

// Under lazy module loading (CUDA's default) the first launch of a kernel may wait for the
// whole context to go idle. With several ranks in one process, a stream that waits for the
// proxy (which waits for another rank whose kernels are not launched yet) never goes idle, so
// that first launch would never return: load every collective kernel up front, as NCCL does.
cudaError_t preloadCollectiveKernels() {
  GpuCollArgs a{};  // blocks == 0: load only
  for (int d = 0; d < static_cast<int>(tuttiNumTypes); ++d) {
    const auto dtype = static_cast<tuttiDataType_t>(d);
    for (auto launch : {launchOneShotAllReduce, launchTwoShotAllReduce, launchReduceScatter,
                        launchReduce}) {
      cudaError_t e = launch(a, dtype, CombineKind::kSum, nullptr);
      if (e != cudaSuccess) return e;
    }
  }
  for (auto launch : {launchAllGather, launchAllToAll, launchBroadcast}) {
    cudaError_t e = launch(a, nullptr);
    if (e != cudaSuccess) return e;
  }
  return launchP2pKernel(GpuP2pArgs{}, 0, nullptr);
}

}  // namespace tutti
