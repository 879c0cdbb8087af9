// The device executor of a GPU rank, chosen at init: the direct executor when every rank can
// map every peer's buffers, the proxy executor otherwise. Every rank takes the same one.
#pragma once

#include <memory>

#include "core/comm.h"
#include "core/executor.h"

namespace tutti {

// Collective over the communicator (handle exchange and a vote). CPU-only builds: an error.
Result createDeviceExecutor(Comm* comm, std::unique_ptr<Executor>* out);

}  // namespace tutti
