// StreamOps on CUDA: pinned memory from cudaHostAlloc, copies with cudaMemcpy2DAsync, flags with
// the driver's stream memory operations (cuStreamWriteValue32 / cuStreamWaitValue32), which
// wait on the GPU's front end without occupying an SM or a host thread.
#pragma once

#include <memory>

#include "proxy/stream_ops.h"

namespace tutti {

std::unique_ptr<StreamOps> makeCudaStreamOps(int device);

}  // namespace tutti
