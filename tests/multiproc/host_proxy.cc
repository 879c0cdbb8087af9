// The proxy executor over host-emulated streams.
#include "multiproc/host_proxy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "algorithms/rank_layout.h"
#include "core/comm.h"
#include "multiproc/collective_check.h"
#include "proxy/proxy_executor.h"

namespace tutti::testing {
namespace {

HostStreamOps* gStreams = nullptr;

const DeviceMemoryOps kHostAsDevice = {
    [](size_t bytes) { return malloc(bytes); },
    [](void* p) { free(p); },
    [](void* dst, const void* src, size_t bytes) { memcpy(dst, src, bytes); },
    [](void* dst, const void* src, size_t bytes) { memcpy(dst, src, bytes); },
    [](void* stream) { gStreams->sync(stream); },
};

}  // namespace

HostStreamOps* installHostProxy(tuttiComm_t comm) {
  auto ops = std::make_unique<HostStreamOps>();
  gStreams = ops.get();
  auto proxy = std::make_unique<ProxyExecutor>(comm, std::move(ops), "streams emulated by host");
  EXPECT_EQ(proxy->init(), tuttiSuccess) << lastError();
  comm->executors.device = std::move(proxy);
  TunerContext tc;
  tc.nranks = comm->nranks();
  tc.nodes = comm->topology.layout->nnodes;
  tc.layout = comm->topology.layout.get();
  tc.topo = comm->topology.topo.get();
  tc.executors = {ExecutorKind::kCpu, ExecutorKind::kGpuProxy};
  tc.primary = ExecutorKind::kGpuProxy;
  EXPECT_EQ(comm->tuner.init(tc), tuttiSuccess) << lastError();
  setDeviceMemoryOps(&kHostAsDevice);
  return gStreams;
}

}  // namespace tutti::testing
