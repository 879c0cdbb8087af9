// The proxy executor: enqueue path (stream operations plus a queue entry) and the proxy thread.
#include "proxy/proxy_executor.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/env.h"
#include "base/exit_stops.h"
#include "base/fault_injection.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "core/flight_recorder.h"
#include "cpu/cpu_executor.h"

namespace tutti {
namespace {

bool reached(uint32_t flag, uint32_t g) { return static_cast<int32_t>(flag - g) >= 0; }

}  // namespace

ProxyExecutor::ProxyExecutor(Comm* comm, std::unique_ptr<StreamOps> ops, std::string why)
    : comm_(comm), ops_(std::move(ops)), why_(std::move(why)) {}

ProxyExecutor::~ProxyExecutor() {
  removeExitStop(exitStop_);  // first: the exit handler may be joining the thread right now
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  abort_ = true;
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
  releaseStreams();
  // Copies in flight still read and write the staging: let them finish before it goes.
  if (ops_) ops_->synchronize();
  if (staging_) ops_->freePinned(staging_);
  if (flags_) ops_->freePinned(const_cast<Flags*>(flags_));
}

// 4 MiB, unless the network runs at full rate only from a longer message on (striped UCX hands
// only long messages to its threads): then four times that, so that a chunk's messages still
// reach it on 2 nodes of 2 ranks (a quarter of the chunk each). Measured on the H200 box
// (perf/NOTES.md, 2026-12-04): 16 MiB chunks lift a 64 MiB AllReduce over 4 stripe workers by
// 40-50% and cost one worker or sockets 5-18%. The peers' largest value, so that every rank of
// a multi-node communicator (each has peers across the network) cuts its calls alike.
size_t ProxyExecutor::defaultChunkBytes() const {
  size_t fullRate = 0;
  for (const auto& c : comm_->transports.conns)
    if (c && c->fullRateMessageBytes() > fullRate) fullRate = c->fullRateMessageBytes();
  const size_t chunk = 4 * fullRate;
  return chunk < (4u << 20) ? (4u << 20) : chunk > (64u << 20) ? (64u << 20) : chunk;
}

// The INFO line's word on GPUDirect for peers across the network. Every chunk is staged
// through pinned host memory, because the CPU executor copies and reduces it; a user whose UCX
// was built with CUDA may expect GPUDirect RDMA, so the line says that it is not used.
std::string ProxyExecutor::networkMemoryNote() const {
  int network = 0, device = 0;
  for (const auto& c : comm_->transports.conns) {
    if (!c || std::strcmp(c->kind(), "shm") == 0) continue;
    ++network;
    device += c->carriesDeviceMemory();
  }
  if (network == 0) return "";
  if (device == 0)
    return "; network peers staged too (GPUDirect RDMA needs UCX built with CUDA: none of this "
           "rank's network transports takes device memory)";
  return "; network peers staged too, although UCX takes device memory for " +
         std::to_string(device) + " of " + std::to_string(network) +
         ": Tutti has no GPUDirect RDMA path yet (docs/gpu-executor.md)";
}

// Streams of the ranks that one process drives on one GPU share the device's hardware queues
// (CUDA_DEVICE_MAX_CONNECTIONS, 8 by default). A chunk's stream waits on a flag that the proxy
// sets once the peers' chunks have moved; when a peer's copy sits behind that wait in the same
// queue, nothing moves until the timeout. On the H200 (2026-12-05) 4 such ranks ran with 8
// queues and 5 timed out; 2 timed out with 1 queue and ran with 2. Separate processes have
// queues of their own. Said once, by the lowest rank of the process on that GPU.
std::string sharedQueuesWarning(const std::vector<PeerInfo>& peers, int rank, int queues) {
  const PeerInfo& me = peers[rank];
  int sharing = 0, lowest = rank;
  for (const PeerInfo& p : peers)
    if (p.machineHash == me.machineHash && p.pid == me.pid && p.busId == me.busId) {
      ++sharing;
      lowest = std::min(lowest, static_cast<int>(p.rank));
    }
  if (me.busId < 0 || sharing < 2 || 2 * sharing <= queues || lowest != rank) return "";
  return std::to_string(sharing) + " ranks of this process drive GPU " +
         std::to_string(me.cudaDev) +
         " through the proxy with CUDA_DEVICE_MAX_CONNECTIONS=" + std::to_string(queues) +
         ": their streams share hardware queues and a call can stall until the timeout; set "
         "CUDA_DEVICE_MAX_CONNECTIONS=32 (at least twice the ranks) before the process first "
         "uses CUDA";
}

Result ProxyExecutor::init() {
  slotBytes_ = envBytes("TUTTI_PROXY_CHUNK_BYTES", defaultChunkBytes()) & ~size_t(4095);
  if (slotBytes_ < 4096) slotBytes_ = 4096;
  void* p = nullptr;
  TUTTI_CHECK(ops_->allocPinned(4 * slotBytes_, &p), "proxy staging of %zu bytes", 4 * slotBytes_);
  staging_ = static_cast<char*>(p);
  TUTTI_CHECK(ops_->allocPinned(sizeof(Flags), &p), "proxy flags");
  flags_ = static_cast<Flags*>(p);
  // Chunks 0 and 1 find their slots free: as if chunks -2 and -1 had been copied out.
  flags_->slotFree[0] = static_cast<uint32_t>(-2);
  flags_->slotFree[1] = static_cast<uint32_t>(-1);
  flags_->resultsOut[0] = static_cast<uint32_t>(-2);
  flags_->resultsOut[1] = static_cast<uint32_t>(-1);
  flags_->copiedIn[0] = static_cast<uint32_t>(-2);
  flags_->copiedIn[1] = static_cast<uint32_t>(-1);
  exitStop_ = addExitStop([this] { stopAtExit(); });
  thread_ = std::thread(&ProxyExecutor::loop, this);
  const std::string queues =
      sharedQueuesWarning(comm_->peers, comm_->rank(), envInt("CUDA_DEVICE_MAX_CONNECTIONS", 8));
  if (!queues.empty()) TUTTI_WARN("%s", queues.c_str());
  if (comm_->rank() == 0)
    TUTTI_INFO("GPU path: host proxy (%s); staging 2 x %zu KiB in + out, pinned%s", why_.c_str(),
               slotBytes_ >> 10, networkMemoryNote().c_str());
  return tuttiSuccess;
}

Result ProxyExecutor::launch(std::vector<CommCalls>& work) {
  TUTTI_TRY(ops_->setDevice());
  for (CommCalls& w : work) {
    TUTTI_TRY(comm_->checkUsable());
    std::vector<ProxyOp> ops;
    TUTTI_TRY(planProxyOps(w.calls, comm_->rank(), comm_->nranks(), slotBytes_, &ops));
    for (ProxyOp& op : ops) {
      bool capturing = false;
      TUTTI_TRY(ops_->isCapturing(op.stream, &capturing));
      for (StreamHandle s : op.joined) {
        bool c = false;
        TUTTI_TRY(ops_->isCapturing(s, &c));
        capturing |= c;
      }
      if (capturing)
        return setError(tuttiInvalidUsage,
                        "%s cannot be captured in a CUDA graph on this communicator: its device "
                        "buffers go through the host proxy (%s), which needs the host for every "
                        "call",
                        collectiveName(op.collective), why_.c_str());
    }
    for (ProxyOp& op : ops) {
      // Collectives are planned per chunk by the CPU executor with this executor's tables (and
      // logged there); point-to-point runs as pieces of its messages.
      if (op.collective == Collective::kAllToAllv || op.collective == Collective::kSend ||
          op.collective == Collective::kRecv) {
        TunerChoice choice = comm_->tuner.decide(kind(), op.collective, op.bytes);
        if (!choice.supported) return setError(tuttiInvalidUsage, "%s", choice.error.c_str());
        comm_->tuner.noteRan(kind(), op.collective, op.bytes, choice);
      }
      TUTTI_TRY(enqueue(op));
    }
  }
  return tuttiSuccess;
}

// Stream order for the K chunks of one op (chunk k is global chunk g = first + k, slot g % 2):
//   in(0) in(1) out(0) in(2) out(1) ... in(K-1) out(K-2) out(K-1)
// in(k):  wait slotFree[s] >= g-2, copy device -> send area, write copiedIn[s] = g
// out(k): wait resultsOut[s] >= g, copy recv area -> device, write slotFree[s] = g
// so the stream copies chunk k+1 in and chunk k-1 out while the proxy runs chunk k.
Result ProxyExecutor::enqueue(ProxyOp& op) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failed_) return setError(error_, "%s", errorMessage_.c_str());
  const StreamHandle s = op.stream;
  for (StreamHandle other : op.joined) TUTTI_TRY(ops_->join(s, other));
  for (size_t i = 0; i < op.selfCopies.size(); ++i)
    TUTTI_TRY(
        ops_->copyDevice(op.selfCopies[i].first, op.selfCopies[i].second, op.selfBytes[i], s));
  const uint32_t first = nextChunk_;
  const size_t K = op.chunks.size();
  auto copyIn = [&](size_t k) -> Result {
    const uint32_t g = first + static_cast<uint32_t>(k);
    TUTTI_TRY(ops_->waitFlag(&flags_->slotFree[g & 1], g - 2, s));
    for (const StagedCopy& c : op.chunks[k].in)
      TUTTI_TRY(ops_->copy2D(sendArea(g) + c.hostOffset, c.hostPitch, c.device, c.devicePitch,
                             c.width, c.height, true, s));
    return ops_->writeFlag(&flags_->copiedIn[g & 1], g, s);
  };
  auto copyOut = [&](size_t k) -> Result {
    const uint32_t g = first + static_cast<uint32_t>(k);
    TUTTI_TRY(ops_->waitFlag(&flags_->resultsOut[g & 1], g, s));
    for (const StagedCopy& c : op.chunks[k].out)
      TUTTI_TRY(ops_->copy2D(c.device, c.devicePitch, recvArea(g) + c.hostOffset, c.hostPitch,
                             c.width, c.height, false, s));
    return ops_->writeFlag(&flags_->slotFree[g & 1], g, s);
  };
  for (size_t k = 0; k < K; ++k) {
    TUTTI_CHECK(copyIn(k), "enqueueing %s on the proxy path", collectiveName(op.collective));
    if (k > 0) TUTTI_CHECK(copyOut(k - 1), "enqueueing %s", collectiveName(op.collective));
  }
  if (K > 0) TUTTI_CHECK(copyOut(K - 1), "enqueueing %s", collectiveName(op.collective));
  for (StreamHandle other : op.joined) TUTTI_TRY(ops_->join(other, s));
  nextChunk_ += static_cast<uint32_t>(K);
  if (K == 0) return tuttiSuccess;
  queue_.push_back(Queued{first, std::move(op)});
  ++submitted_;
  work_.notify_one();
  return tuttiSuccess;
}

bool ProxyExecutor::waitCopiedIn(uint32_t g) {
  // Spin briefly, then yield, then sleep with growing naps: an idle or slow stream costs
  // little CPU. No timeout: the stream may run a long kernel before the collective; peers
  // waiting for this rank time out on their own, and an abort ends the wait.
  for (uint32_t i = 0;; ++i) {
    if (reached(flags_->copiedIn[g & 1], g)) return true;
    if (abort_.load(std::memory_order_relaxed)) return false;
    if (i < 200) continue;
    if (i < 2000) {
      sched_yield();
      continue;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(i < 4000 ? 20 : i < 8000 ? 100 : 1000));
  }
}

Result ProxyExecutor::runChunk(const ProxyOp& op, size_t k, uint32_t g,
                               const std::unordered_map<uint64_t, size_t>& lastChunk) {
  const ProxyChunk& chunk = op.chunks[k];
  std::vector<CollCall> calls;
  calls.reserve(chunk.calls.size());
  for (const StagedCall& sc : chunk.calls) {
    CollCall c = sc.call;
    if (c.flightId && comm_->flight) {
      if (k == 0) comm_->flight->started(c.flightId, ExecutorKind::kGpuProxy, Algorithm::kAuto);
      auto it = lastChunk.find(c.flightId);
      if (it != lastChunk.end() && it->second != k) c.flightId = 0;
    }
    c.recvbuff = sc.hasRecv ? recvArea(g) + sc.recvOffset : nullptr;
    c.sendbuff = sc.hasSend ? sendArea(g) + sc.sendOffset
                            : (c.collective == Collective::kBroadcast ? c.recvbuff : nullptr);
    calls.push_back(std::move(c));
  }
  if (faultArmed() && !calls.empty()) TUTTI_TRY(proxyFault(calls[0]));
  return comm_->executors.cpu->runStaged(calls, ExecutorKind::kGpuProxy);
}

// TUTTI_FAULT where=proxy: the proxy thread dies, stalls, drops its connections or corrupts a
// staged chunk before the CPU executor sends it.
Result ProxyExecutor::proxyFault(const CollCall& call) {
  int64_t delayMs = 0;
  const FaultKind k = faultFire(FaultWhere::kProxy, comm_->rank(), call.seq, &delayMs);
  if (faultActGeneric(k, delayMs)) return tuttiSuccess;
  switch (k) {
    case FaultKind::kHang: {
      // A stalled proxy: peers time out and tell us; an abort ends the stall too.
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(comm_->config.timeoutMs);
      while (std::chrono::steady_clock::now() < until && !abort_.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return setError(tuttiTimeout, "fault injection (TUTTI_FAULT): the proxy hung");
    }
    case FaultKind::kClose:
      comm_->transports.markFailed();
      return setError(tuttiRemoteError,
                      "fault injection (TUTTI_FAULT): the proxy closed its "
                      "connections");
    case FaultKind::kCorrupt:
      if (call.sendbuff && call.count)
        static_cast<char*>(const_cast<void*>(call.sendbuff))[0] ^= 0x5a;
      return tuttiSuccess;
    default: return tuttiSuccess;
  }
}

void ProxyExecutor::loop() {
  nameThisThread("proxy");
  setLogRank(comm_->rank());
  for (;;) {
    Queued* q = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      q = &queue_.front();         // deque: stays valid while others are pushed
    }
    std::unordered_map<uint64_t, size_t> lastChunk;  // flight id -> last chunk it is in
    for (size_t k = 0; k < q->op.chunks.size(); ++k)
      for (const StagedCall& sc : q->op.chunks[k].calls)
        if (sc.call.flightId) lastChunk[sc.call.flightId] = k;
    for (size_t k = 0; k < q->op.chunks.size(); ++k) {
      const uint32_t g = q->firstChunk + static_cast<uint32_t>(k);
      bool failed;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        failed = failed_;
      }
      if (!failed) {
        Result r = waitCopiedIn(g) ? runChunk(q->op, k, g, lastChunk)
                                   : setError(tuttiAborted, "communicator aborted");
        if (r != tuttiSuccess) {
          if (comm_->flight)
            for (const auto& [id, last] : lastChunk) comm_->flight->finished(id, false);
          addErrorContext("%s on the host proxy, chunk %zu of %zu",
                          collectiveName(q->op.collective), k + 1, q->op.chunks.size());
          std::string msg = lastError();
          comm_->fail(r);               // peers learn now; later calls on this communicator fail
          comm_->errors.remember(msg);  // the executor may have recorded it without context
          {
            std::lock_guard<std::mutex> lock(mutex_);
            failed_ = true;
            error_ = r;
            errorMessage_ = msg;
          }
          TUTTI_WARN("%s", msg.c_str());
          releaseStreams();
          continue;
        }
      }
      if (failed) continue;  // releaseStreams() covered this chunk
      // The results are in the recv area: a release store, so the stream's copy sees them.
      __atomic_store_n(&flags_->resultsOut[g & 1], g, __ATOMIC_RELEASE);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.pop_front();
    ++completed_;
    idle_.notify_all();
  }
}

void ProxyExecutor::releaseStreams() {
  if (!flags_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const uint32_t last = nextChunk_ - 1;
  __atomic_store_n(&flags_->resultsOut[0], last, __ATOMIC_RELEASE);
  __atomic_store_n(&flags_->resultsOut[1], last, __ATOMIC_RELEASE);
}

Result ProxyExecutor::quiesce() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = submitted_;
  const int ms = comm_->config.timeoutMs;
  if (!idle_.wait_for(lock, std::chrono::milliseconds(ms),
                      [&] { return completed_ >= target || failed_; }))
    return setError(tuttiTimeout,
                    "a host-buffer call waited %d ms for this communicator's device "
                    "collectives on the proxy to finish (TUTTI_TIMEOUT_MS)",
                    ms);
  if (failed_) return setError(error_, "%s", errorMessage_.c_str());
  return tuttiSuccess;
}

Result ProxyExecutor::synchronize() {
  TUTTI_TRY(ops_->setDevice());
  TUTTI_TRY(ops_->synchronize());
  return pollError();
}

Result ProxyExecutor::pollError() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failed_) return setError(error_, "%s", errorMessage_.c_str());
  return tuttiSuccess;
}

// The loop still takes every queued call: each fails at once (the abort) and releases its
// streams, and then the loop returns (stop_).
void ProxyExecutor::stopAtExit() {
  comm_->errors.abortFlag = true;  // a chunk in the CPU executor's hands returns at once
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  abort_ = true;
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProxyExecutor::abort() {
  abort_ = true;
  work_.notify_all();
}

}  // namespace tutti
