// ncclGroupSimulateEnd's estimate: an alpha-beta model per call with nccl-tests' bus-bandwidth
// factors. Coarse by design; it does not consult Tutti's tuner (docs/nccl-compat.md).
#include "shim/cuda_runtime_access.h"
#include "shim/shim_call.h"

namespace tutti::shim {
namespace {

// Per-call latency (us) and bus bandwidth (bytes/us) of the two executors, from the
// NVLink H200 figures in gpu-machines.md and the CPU executor's shared-memory path.
constexpr double kDeviceLatencyUs = 10.0;
constexpr double kDeviceBytesPerUs = 300e3;  // ~300 GB/s bus bandwidth
constexpr double kHostLatencyUs = 20.0;
constexpr double kHostBytesPerUs = 5e3;  // ~5 GB/s

}  // namespace

float estimateMicroseconds(const std::vector<ShimCall>& calls) {
  double total = 0;
  for (const ShimCall& c : calls) {
    const double n = c.comm->nranks;
    const double bytes = static_cast<double>(c.count) * dtypeBytes(c.dtype);
    double data = bytes, factor = 1;
    switch (c.kind) {
      case CallKind::kAllReduce: factor = n > 1 ? 2 * (n - 1) / n : 0; break;
      case CallKind::kAllGather:
      case CallKind::kReduceScatter:
      case CallKind::kAllToAll:
      case CallKind::kGather:
      case CallKind::kScatter:
        data = bytes * n;
        factor = n > 1 ? (n - 1) / n : 0;
        break;
      default: break;
    }
    const bool device = isDeviceMemory(c.sendbuff) || isDeviceMemory(c.recvbuff);
    total += device ? kDeviceLatencyUs + data * factor / kDeviceBytesPerUs
                    : kHostLatencyUs + data * factor / kHostBytesPerUs;
  }
  return static_cast<float>(total);
}

}  // namespace tutti::shim
