// Stand-in for the NCCL backend in builds without CUDA or without NVIDIA's nccl.h.
#include "harness/backend.h"

namespace tutti::perf {

Status makeNcclBackend(const std::string& path, std::unique_ptr<Backend>* out) {
  return Status::error(
      "this build of the perf harness has no NCCL backend (it needs CUDA and "
      "NVIDIA's nccl.h at configure time)");
}

}  // namespace tutti::perf
