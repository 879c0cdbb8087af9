// CUDA builds: the device executor of a GPU rank. Every rank maps what it can and votes; if
// every rank mapped every peer the direct kernels run, else every rank takes the proxy, which
// runs AllReduce hierarchically when nodes of several mapped ranks allow it.
#include "core/device_executor.h"

#include "base/logging.h"
#include "gpu/cuda_stream_ops.h"
#include "gpu/direct_executor.h"
#include "gpu/hierarchical_executor.h"
#include "proxy/proxy_executor.h"

namespace tutti {

Result createDeviceExecutor(Comm* comm, std::unique_ptr<Executor>* out) {
  auto state = std::make_unique<GpuState>();
  TUTTI_TRY(state->init(comm));
  if (state->direct) {
    *out = std::make_unique<DirectExecutor>(comm, std::move(state));
    return tuttiSuccess;
  }
  const std::string why = state->whyNotDirect;
  state.reset();  // the scratch and mappings are the direct kernels'; the proxy stages instead
  auto proxy = std::make_unique<ProxyExecutor>(comm, makeCudaStreamOps(comm->config.device), why);
  TUTTI_TRY(proxy->init());
  return maybeHierarchical(comm, std::move(proxy), out);
}

}  // namespace tutti
