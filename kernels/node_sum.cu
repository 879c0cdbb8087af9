// The sum of a node's exact inputs, in fp32 and part order (node_sum.h): one thread per element,
// grid-stride. Conversions from half and bfloat16 are exact and the additions are __fadd_rn, so
// the bits are those of the CPU's loop.
#include "codec_device.cuh"
#include "node_sum.h"

namespace tutti {
namespace codec_detail {

template <typename T>
__global__ void nodeSumKernel(NodeSumArgs a) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.len;
       i += stride) {
    float v = loadAsFloat<T>(a.in, i);
    for (int p = 1; p < a.nparts; ++p)
      v = codec::addRn(v, loadAsFloat<T>(a.in, static_cast<size_t>(p) * a.len + i));
    a.out[i] = v;
  }
}

template <typename T>
cudaError_t nodeSumTyped(const NodeSumArgs& a, cudaStream_t s) {
  nodeSumKernel<T><<<gridFor(a.len), kCodecThreads, 0, s>>>(a);
  return cudaGetLastError();
}

}  // namespace codec_detail

cudaError_t launchNodeSum(const NodeSumArgs& a, cudaStream_t stream) {
  if (a.len == 0 || a.nparts < 1) return cudaSuccess;
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::nodeSumTyped<float>(a, stream);
    case tuttiFloat16: return codec_detail::nodeSumTyped<Half>(a, stream);
    case tuttiBfloat16: return codec_detail::nodeSumTyped<BFloat16>(a, stream);
    default: return cudaErrorInvalidValue;
  }
}

const void* nodeSumModule() {
  return reinterpret_cast<const void*>(&codec_detail::nodeSumKernel<float>);
}

}  // namespace tutti
