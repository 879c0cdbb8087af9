// ComputeLoad in builds without CUDA or cuBLAS: --compute is refused with a reason.
#include "harness/compute_load.h"

namespace tutti::perf {

Status makeComputeLoad(int, int, std::unique_ptr<ComputeLoad>*) {
  return Status::error("--compute needs a perf harness built with CUDA (and cublas_api.h)");
}

}  // namespace tutti::perf
