// The fp32 sum of a node's exact inputs in the inter-node-only mode of the compressed
// collectives (src/compression/compressed_device_cuda.cc): parts summed in order, element by
// element, with the additions of the CPU path (accumulateRaw in compressed_host.cc), so that both
// produce the same bits. CUDA builds only.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "tutti/tutti.h"

namespace tutti {

// out[i] = float(part 0)[i] + float(part 1)[i] + ... + float(part nparts - 1)[i], added left to
// right in fp32 (round to nearest, never fused), i < len; part p is the `len` elements of dtype
// (float32, float16 or bfloat16) at in + p * len.
struct NodeSumArgs {
  const void* in;
  tuttiDataType_t dtype;
  int nparts;
  size_t len;
  float* out;
};
cudaError_t launchNodeSum(const NodeSumArgs& a, cudaStream_t stream);

// One kernel of node_sum.cu, for loading its module at GPU setup (src/gpu/module_preload.h).
const void* nodeSumModule();

}  // namespace tutti
