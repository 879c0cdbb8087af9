// The GPU proxy executor: device buffers whose peers this rank cannot map (no P2P, another node)
// move through pinned host staging and the CPU executor, run by a proxy thread per
// communicator. The enqueue path only puts copies and flag operations on the caller's stream
// and a description of the work on the proxy's queue; the proxy thread waits for each chunk's
// "copied in" flag, runs the chunk's host calls, and raises its "results ready" flag, which the
// stream waits on before copying the results out. Nothing blocks in a stream callback, several
// streams and threads may use one communicator, and an idle proxy sleeps.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/comm.h"
#include "core/executor.h"
#include "proxy/proxy_plan.h"
#include "proxy/stream_ops.h"

namespace tutti {

class ProxyExecutor : public Executor {
 public:
  // `why` says why the direct kernels are not used (logs and errors).
  ProxyExecutor(Comm* comm, std::unique_ptr<StreamOps> ops, std::string why);
  ~ProxyExecutor() override;
  // Allocates the staging (two slots of TUTTI_PROXY_CHUNK_BYTES for input and output, pinned,
  // once) and the flags, and starts the proxy thread.
  Result init();

  ExecutorKind kind() const override { return ExecutorKind::kGpuProxy; }
  const Capabilities& capabilities() const override { return gpuProxyCapabilities(); }
  Result launch(std::vector<CommCalls>& work) override;
  Result quiesce() override;
  Result synchronize() override;
  Result pollError() override;
  void abort() override;

 private:
  // Chunk flags in pinned memory, each on its own cache line. Chunk g uses slot g % 2;
  // values are chunk numbers modulo 2^32, compared cyclically.
  struct Flags {
    alignas(64) volatile uint32_t copiedIn[2];    // stream -> proxy: chunk g is in the send area
    alignas(64) volatile uint32_t resultsOut[2];  // proxy -> stream: chunk g's results are ready
    alignas(64) volatile uint32_t slotFree[2];    // stream -> stream: chunk g is copied out
  };
  struct Queued {
    uint32_t firstChunk;
    ProxyOp op;
  };

  // TUTTI_PROXY_CHUNK_BYTES unset: the chunk that suits the network's connections.
  size_t defaultChunkBytes() const;
  // The INFO line's word on GPUDirect RDMA for this rank's network peers ("" when none).
  std::string networkMemoryNote() const;
  Result enqueue(ProxyOp& op);
  void loop();
  // Chunk k of `op` in global slot g. A call's flight-recorder entry travels only with the last
  // chunk it appears in (`lastChunk`: flight id -> chunk index), so the entry shows running
  // from the first chunk to the end of the last, not done after the first.
  Result runChunk(const ProxyOp& op, size_t k, uint32_t g,
                  const std::unordered_map<uint64_t, size_t>& lastChunk);
  // Waits until the stream copied chunk g in; false when the proxy should give up (abort).
  bool waitCopiedIn(uint32_t g);
  // After a failure: every chunk handed out so far is released, so no stream waits forever.
  void releaseStreams();
  // At exit without a destroy (base/exit_stops.h): calls still queued end as an abort would end
  // them, releasing their streams, and the thread is joined, before CUDA and the network
  // libraries are torn down under it.
  void stopAtExit();
  Result proxyFault(const CollCall& call);
  char* sendArea(uint32_t g) const { return staging_ + (g & 1) * 2 * slotBytes_; }
  char* recvArea(uint32_t g) const { return sendArea(g) + slotBytes_; }

  Comm* comm_;
  std::unique_ptr<StreamOps> ops_;
  std::string why_;
  size_t slotBytes_ = 0;
  char* staging_ = nullptr;
  Flags* flags_ = nullptr;

  std::mutex mutex_;  // guards everything below
  std::condition_variable work_, idle_;
  std::deque<Queued> queue_;
  uint32_t nextChunk_ = 0;
  uint64_t submitted_ = 0, completed_ = 0;
  bool failed_ = false, stop_ = false;
  Result error_ = tuttiSuccess;
  std::string errorMessage_;

  std::atomic<bool> abort_{false};
  std::thread thread_;
  uint64_t exitStop_ = 0;
};

// The warning for `rank` when its process drives more ranks on its GPU than `queues` hardware
// queues carry (CUDA_DEVICE_MAX_CONNECTIONS; at least two per rank), said by the lowest such
// rank; "" otherwise.
std::string sharedQueuesWarning(const std::vector<PeerInfo>& peers, int rank, int queues);

}  // namespace tutti
