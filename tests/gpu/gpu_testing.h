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

// Rank r of a GPU test runs on GPU r % visibleGpus(). With fewer GPUs than ranks the ranks
// share GPUs (the test sets TUTTI_ALLOW_SHARED_GPU=1 and says so): that checks the kernels on
// any rank count with one GPU, though not their speed, and not NVLink's memory ordering.
int gpuForRank(int rank);
// Returns false (the test skips) without any GPU; sets up sharing when GPUs are fewer than n.
bool prepareGpus(int nranks);

#define SKIP_WITHOUT_GPUS(n)                                                 \
  do {                                                                       \
    if (!::tutti::testing::prepareGpus(n)) GTEST_SKIP() << "no GPU visible"; \
  } while (0)

#define CUDA_OK(call)                                                      \
  do {                                                                     \
    cudaError_t e_ = (call);                                               \
    ASSERT_EQ(e_, cudaSuccess) << #call << ": " << cudaGetErrorString(e_); \
  } while (0)

}  // namespace tutti::testing
