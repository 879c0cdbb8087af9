// A communicator whose device executor is the GPU proxy over host-emulated streams
// (testing/host_stream_ops.h), for tests of the proxy path on machines without a GPU.
#pragma once

#include "testing/host_stream_ops.h"
#include "tutti/tutti.h"

namespace tutti::testing {

// Gives `comm` a proxy executor, as createDeviceExecutor does for a GPU rank whose peers cannot
// be mapped, rebuilds its tuner with the proxy as the main executor, and installs device memory
// ops that treat host memory as device memory. Returns the streams (owned by the executor).
HostStreamOps* installHostProxy(tuttiComm_t comm);

}  // namespace tutti::testing
