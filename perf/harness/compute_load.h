// Compute beside the collective (--compute N): bf16 N x N x N GEMMs (cuBLAS) back to back on a
// second stream of a rank's GPU while its collective is timed, as training overlaps gradient
// communication with the backward pass. Shows what a library's SM use costs the model and
// what the model's load costs the library.
#pragma once

#include <memory>

#include "harness/status.h"

namespace tutti::perf {

class ComputeLoad {
 public:
  virtual ~ComputeLoad() = default;
  // GEMMs run back to back from now until stop(), fed by a thread (the timed loop may block).
  virtual Status start() = 0;
  // Stops feeding, waits for the queued GEMMs; *tflops: the GEMM rate from start() to then.
  virtual Status stop(double* tflops) = 0;
};

// Fails when the harness was built without CUDA or cuBLAS.
Status makeComputeLoad(int device, int n, std::unique_ptr<ComputeLoad>* out);

}  // namespace tutti::perf
