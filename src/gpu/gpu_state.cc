// GPU communicator setup: allocation, handle exchange and peer mapping.
#include "gpu/gpu_state.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <cstring>
#include <mutex>
#include <set>

#include "base/env.h"
#include "base/exit_stops.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "core/call_signature.h"
#include "gpu/module_preload.h"
#include "kernels/codec_launch.h"
#include "kernels/launch.h"
#include "kernels/node_sum.h"

namespace tutti {
namespace {

Result cudaCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "%s failed: %s", what, cudaGetErrorString(e));
}

struct PeerGpuInfo {
  cudaIpcMemHandle_t scratchHandle;
  cudaIpcMemHandle_t flagsHandle;
  uint64_t scratchPtr;
  uint64_t flagsPtr;
  int32_t pid;
  int32_t device;
  int32_t direct;  // this rank can map every peer
  int32_t pad;
};

std::string busIdString(int64_t busId) {
  char s[32];
  snprintf(s, sizeof(s), "%04x:%02x:%02x.0", (unsigned)((busId >> 16) & 0xffff),
           (unsigned)((busId >> 8) & 0xff), (unsigned)(busId & 0xff));
  return s;
}

}  // namespace

void GpuState::watch(std::vector<std::pair<int, int>> peers) {
  nameThisThread("watchdog");
  while (!stopWatchdog_.load()) {
    for (auto [rank, pid] : peers) {
      if (kill(pid, 0) != 0 && errno == ESRCH) {
        // Only kernels that still wait on the rank give up (and report it); a peer that
        // finished its work and left breaks nothing already complete.
        deadPeer = rank;
        reinterpret_cast<volatile int*>(hostWords)[0] = 1;
        return;
      }
    }
    // 100 ms between looks, in steps short enough that a stop is not kept waiting.
    for (int i = 0; i < 10 && !stopWatchdog_.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void GpuState::stopWatchdog() {
  stopWatchdog_ = true;
  if (watchdog_.joinable()) watchdog_.join();
}

GpuState::~GpuState() {
  removeExitStop(exitStop_);  // first: the exit handler may be joining the watchdog right now
  stopWatchdog();
  if (device >= 0) cudaSetDevice(device);
  for (void* p : opened_) cudaIpcCloseMemHandle(p);
  if (scratch) cudaFree(scratch);
  if (flags) cudaFree(flags);
  if (counters) cudaFree(counters);
  if (devComm) cudaFree(devComm);
  if (hostWords) cudaFreeHost(hostWords);
}

void GpuState::abort() {
  if (hostWords) reinterpret_cast<volatile int*>(hostWords)[0] = 1;
}

Result GpuState::pollError(int timeoutMs) const {
  if (!hostWords) return tuttiSuccess;
  const int e = reinterpret_cast<volatile int*>(hostWords)[1];
  if (e == kKernelTimeout)
    return setError(tuttiTimeout, "a collective kernel waited for a peer longer than %d ms",
                    timeoutMs);
  if (e == kKernelAborted && deadPeer >= 0)
    return setError(tuttiRemoteError, "rank %d died while a collective kernel waited for it",
                    deadPeer.load());
  if (e == kKernelAborted) return setError(tuttiAborted, "a collective kernel was aborted");
  if (e == kKernelCallMismatch) {
    const auto* mm = reinterpret_cast<volatile const unsigned long long*>(
        reinterpret_cast<const char*>(hostWords) + kMismatchOffset);
    const uint64_t mine = mm[1], theirs = mm[2];
    const std::string a = describePackedSignature(mine), b = describePackedSignature(theirs);
    // The packed form keeps collective, dtype, op and root; count and sequence are hashed.
    return setError(tuttiInvalidUsage,
                    "collective calls differ between ranks: rank %d called %s, rank %d called %s%s",
                    rank, a.c_str(), static_cast<int>(mm[0]) - 1, b.c_str(),
                    a == b ? " (their counts or their number of earlier collectives differ)" : "");
  }
  return tuttiSuccess;
}

namespace {

// Once per device and process (launch.h says why).
Result preloadKernels(int device) {
  static std::mutex mutex;
  static std::set<int> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded.count(device)) return tuttiSuccess;
  TUTTI_TRY(cudaCheck(preloadCollectiveKernels(), "loading the collective kernels"));
  // The codec kernels too: a compressed call launches them between its exchanges.
  TUTTI_TRY(preloadModuleOf(codecEncodeModule(), "codec encode kernels"));
  TUTTI_TRY(preloadModuleOf(codecDecodeModule(), "codec decode kernels"));
  TUTTI_TRY(preloadModuleOf(codecTopKModule(), "top-k codec kernels"));
  TUTTI_TRY(preloadModuleOf(nodeSumModule(), "node-sum kernel"));
  loaded.insert(device);
  return tuttiSuccess;
}

}  // namespace

Result GpuState::init(Comm* comm) {
  device = comm->config.device;
  rank = comm->rank();
  const int n = comm->nranks(), r = comm->rank();
  TUTTI_TRY(cudaCheck(cudaSetDevice(device), "cudaSetDevice"));
  TUTTI_TRY(preloadKernels(device));
  regionBytes = envBytes("TUTTI_GPU_REGION_BYTES", 2u << 20) & ~size_t(4095);
  p2pChunkBytes = envBytes("TUTTI_GPU_P2P_CHUNK_BYTES", 512u << 10) & ~size_t(15);
  const int slots = n < kMaxGpuRanks ? n : kMaxGpuRanks;
  scratchBytes = kMaxBlocks * regionBytes + size_t(slots) * kMaxP2pBlocks * 2 * p2pChunkBytes;
  TUTTI_TRY(cudaCheck(cudaMalloc(&scratch, scratchBytes), "cudaMalloc (scratch)"));
  TUTTI_TRY(cudaCheck(cudaMalloc(&flags, kFlagWords * sizeof(uint64_t)), "cudaMalloc (flags)"));
  TUTTI_TRY(cudaCheck(cudaMemset(flags, 0, kFlagWords * sizeof(uint64_t)), "cudaMemset"));
  TUTTI_TRY(cudaCheck(cudaMalloc(&counters, sizeof(DeviceCounters)), "cudaMalloc (counters)"));
  TUTTI_TRY(cudaCheck(cudaMemset(counters, 0, sizeof(DeviceCounters)), "cudaMemset"));
  TUTTI_TRY(cudaCheck(cudaHostAlloc(reinterpret_cast<void**>(&hostWords), 64,
                                    cudaHostAllocMapped | cudaHostAllocPortable),
                      "cudaHostAlloc (abort word)"));
  memset(hostWords, 0, 64);
  int* devWords = nullptr;
  TUTTI_TRY(cudaCheck(cudaHostGetDevicePointer(reinterpret_cast<void**>(&devWords), hostWords, 0),
                      "cudaHostGetDevicePointer"));

  // Which peers can we map? Every rank must be on this node and reachable by P2P.
  bool canDirect = n <= kMaxGpuRanks;
  std::string why = canDirect ? "" : "more than 16 ranks";
  if (canDirect && envInt("TUTTI_P2P_DISABLE", 0) != 0) {  // as NCCL_P2P_DISABLE: staged path
    canDirect = false;
    why = "TUTTI_P2P_DISABLE=1";
  }
  for (int p = 0; p < n && canDirect; ++p) {
    if (p == r) continue;
    if (comm->peers[p].hostHash != comm->peers[r].hostHash) {
      canDirect = false;
      why = "ranks on other nodes";
      break;
    }
    if (comm->peers[p].cudaDev < 0) {
      canDirect = false;
      why = "a host-only rank";
      break;
    }
    int local = -1;
    if (cudaDeviceGetByPCIBusId(&local, busIdString(comm->peers[p].busId).c_str()) != cudaSuccess) {
      cudaGetLastError();
      continue;  // not visible here; IPC open below decides
    }
    if (local == device) continue;  // a rank sharing our GPU (TUTTI_ALLOW_SHARED_GPU)
    int can = 0;
    cudaDeviceCanAccessPeer(&can, device, local);
    if (!can) {
      canDirect = false;
      why = "no P2P access between GPU " + std::to_string(device) + " and rank " +
            std::to_string(p) + "'s GPU";
    }
  }
  std::vector<PeerGpuInfo> info(n);
  PeerGpuInfo& me = info[r];
  memset(&me, 0, sizeof(me));
  TUTTI_TRY(cudaCheck(cudaIpcGetMemHandle(&me.scratchHandle, scratch), "cudaIpcGetMemHandle"));
  TUTTI_TRY(cudaCheck(cudaIpcGetMemHandle(&me.flagsHandle, flags), "cudaIpcGetMemHandle"));
  me.scratchPtr = reinterpret_cast<uint64_t>(scratch);
  me.flagsPtr = reinterpret_cast<uint64_t>(flags);
  me.pid = getpid();
  me.device = device;
  me.direct = canDirect;
  TUTTI_CHECK(comm->bootstrap->allGather(info.data(), sizeof(PeerGpuInfo)),
              "exchanging GPU buffer handles");

  view = DeviceComm{};
  view.rank = r;
  view.nranks = n;
  view.counters = counters;
  view.abortFlag = devWords;
  view.errorFlag = devWords + 1;
  view.callMismatch =
      reinterpret_cast<unsigned long long*>(reinterpret_cast<char*>(devWords) + kMismatchOffset);
  view.timeoutNs = static_cast<uint64_t>(comm->config.timeoutMs) * 1000000ull;
  view.regionBytes = regionBytes;
  view.p2pOffset = kMaxBlocks * regionBytes;
  view.p2pChunkBytes = p2pChunkBytes;
  for (int p = 0; p < n && canDirect; ++p) {
    if (p == r) {
      view.scratch[p] = scratch;
      view.flags[p] = flags;
      continue;
    }
    if (info[p].pid == me.pid) {  // same process: plain pointers with peer access
      cudaError_t e =
          info[p].device == device ? cudaSuccess : cudaDeviceEnablePeerAccess(info[p].device, 0);
      if (e != cudaSuccess && e != cudaErrorPeerAccessAlreadyEnabled) {
        cudaGetLastError();
        canDirect = false;
        why = std::string("cudaDeviceEnablePeerAccess: ") + cudaGetErrorString(e);
        break;
      }
      cudaGetLastError();
      view.scratch[p] = reinterpret_cast<char*>(info[p].scratchPtr);
      view.flags[p] = reinterpret_cast<uint64_t*>(info[p].flagsPtr);
      continue;
    }
    void* s = nullptr;
    void* f = nullptr;
    cudaError_t e = cudaIpcOpenMemHandle(&s, info[p].scratchHandle, cudaIpcMemLazyEnablePeerAccess);
    if (e == cudaSuccess) {
      opened_.push_back(s);
      e = cudaIpcOpenMemHandle(&f, info[p].flagsHandle, cudaIpcMemLazyEnablePeerAccess);
      if (e == cudaSuccess) opened_.push_back(f);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      canDirect = false;
      why = "cannot map rank " + std::to_string(p) + "'s buffers: " + cudaGetErrorString(e);
      break;
    }
    view.scratch[p] = static_cast<char*>(s);
    view.flags[p] = static_cast<uint64_t*>(f);
  }
  // Every rank must take the same path or kernels would wait for peers on the other one.
  // The call check too: a rank that checks would wait at the end of every kernel for peers
  // that do not publish their calls.
  std::vector<int32_t> votes(n);
  // Off by default: the cheapest mode still costs ~1.2 us of kernel time per call at 8 B (H200,
  // 2026-12-02), over the 0.3 us a default-on check may cost (docs/reliability.md).
  const int mode = static_cast<int>(envInt("TUTTI_CHECK_CALLS", 0));
  votes[r] = (canDirect ? 1 : 0) |
             ((mode == kCallCheckAtStart || mode == kCallCheckAtEnd ? mode : 0) << 1);
  TUTTI_CHECK(comm->bootstrap->allGather(votes.data(), sizeof(int32_t)),
              "agreeing on the GPU path");
  direct = true;
  // Every rank's mode, or none where they differ.
  checkCalls = votes[0] >> 1;
  for (int p = 0; p < n; ++p)
    if ((votes[p] >> 1) != checkCalls) checkCalls = 0;
  for (int p = 0; p < n; ++p)
    if (!(votes[p] & 1)) {
      direct = false;
      if (why.empty()) why = "rank " + std::to_string(p) + " cannot map its peers";
    }
  whyNotDirect = why;
  TUTTI_TRY(cudaCheck(cudaMalloc(&devComm, sizeof(DeviceComm)), "cudaMalloc (device comm)"));
  TUTTI_TRY(cudaCheck(cudaMemcpy(devComm, &view, sizeof(DeviceComm), cudaMemcpyHostToDevice),
                      "cudaMemcpy"));
  std::vector<std::pair<int, int>> local;
  for (int p = 0; p < n; ++p)
    if (p != r && comm->peers[p].hostHash == comm->peers[r].hostHash &&
        comm->peers[p].pid != me.pid)
      local.push_back({p, comm->peers[p].pid});
  if (direct && !local.empty()) {
    exitStop_ = addExitStop([this] { stopWatchdog(); });
    watchdog_ = std::thread(&GpuState::watch, this, local);
  }
  if (r == 0) {
    if (direct)
      TUTTI_INFO("GPU path: direct kernels over P2P; scratch %zu MiB per rank", scratchBytes >> 20);
    int shared = 0;
    for (int p = 1; p < n; ++p)
      shared += comm->peers[p].hostHash == comm->peers[0].hostHash &&
                comm->peers[p].busId == comm->peers[0].busId;
    if (shared)
      TUTTI_INFO(
          "%d other rank(s) share GPU %d with rank 0: kernels of different processes "
          "time-slice on it, so this is for testing, not for speed",
          shared, device);
  }
  return tuttiSuccess;
}

}  // namespace tutti
