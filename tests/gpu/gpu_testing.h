// Helpers for GPU tests: GPU count without initialising CUDA in the parent (ranks are forked
// and CUDA does not survive fork), device memory ops for collective_check, and a CUDA check.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "multiproc/collective_check.h"

namespace tutti::testing {

// Counts GPUs from the driver's /proc entries or nvidia-smi, never through CUDA.
int visibleGpus();
const DeviceMemoryOps* cudaMemoryOps();

#define SKIP_WITHOUT_GPUS(n)                                                       \
  do {                                                                             \
    int have_ = ::tutti::testing::visibleGpus();                                   \
    if (have_ < (n)) GTEST_SKIP() << "needs " << (n) << " GPUs, " << have_ << " visible"; \
  } while (0)

#define CUDA_OK(call)                                                       \
  do {                                                                      \
    cudaError_t e_ = (call);                                                \
    ASSERT_EQ(e_, cudaSuccess) << #call << ": " << cudaGetErrorString(e_);  \
  } while (0)

}  // namespace tutti::testing
