// CPU-only builds: a rank with a device cannot exist (resolveOptions finds no GPU), so this is
// only reached through a bug; it says so instead of crashing.
#ifndef TUTTI_HAVE_CUDA
#include "core/device_executor.h"

namespace tutti {

Result createDeviceExecutor(Comm* comm, std::unique_ptr<Executor>*) {
  return setError(tuttiNotSupported, "device %d: this build of Tutti has no CUDA support",
                  comm->config.device);
}

}  // namespace tutti
#endif
