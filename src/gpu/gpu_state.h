// The direct executor's GPU state: scratch and flag buffers allocated once at init, every peer's
// buffers mapped (CUDA IPC across processes, peer access within one), the device-side DeviceComm
// the kernels read, the host-mapped abort and error words, and a watchdog for dead peers.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/comm.h"
#include "kernels/device_comm.h"

namespace tutti {

class GpuState {
 public:
  ~GpuState();
  // Collective: allocates, exchanges handles, maps every peer it can, and votes: `direct` is
  // true on every rank when every rank mapped every peer, false on every rank otherwise.
  Result init(Comm* comm);
  // Sets the abort word: waiting kernels give up. The error a kernel left, as a Result.
  void abort();
  Result pollError(int timeoutMs) const;

  int device = -1;
  int rank = -1;
  bool direct = false;  // every rank on this node and mapped: direct kernels
  int checkCalls =
      0;  // kernels compare call signatures: 0 or a kCallCheck* mode (TUTTI_CHECK_CALLS)
  std::string whyNotDirect;  // for the log and the proxy's messages
  size_t regionBytes = 0;
  size_t p2pChunkBytes = 0;
  char* scratch = nullptr;
  size_t scratchBytes = 0;
  uint64_t* flags = nullptr;
  DeviceCounters* counters = nullptr;
  // Pinned and mapped: int [0] abort, int [1] kernel error, and from kMismatchOffset the
  // kernels' DeviceComm::callMismatch words.
  int* hostWords = nullptr;
  static constexpr size_t kMismatchOffset = 16;
  DeviceComm* devComm = nullptr;
  DeviceComm view{};  // host copy of *devComm

  std::atomic<int> deadPeer{-1};  // rank the watchdog found dead

 private:
  // Kernels cannot see a peer process die; this thread can (same-host pids), and then
  // aborts our kernels so every rank errors within ~100 ms instead of at the timeout.
  void watch(std::vector<std::pair<int, int>> peers);
  std::thread watchdog_;
  std::atomic<bool> stopWatchdog_{false};
  // The watchdog writes into pinned memory that CUDA frees when it tears down at exit: a process
  // that exits without destroying the communicator stops it first (base/exit_stops.h).
  uint64_t exitStop_ = 0;
  void stopWatchdog();

  std::vector<void*> opened_;  // IPC mappings to close
};

}  // namespace tutti
