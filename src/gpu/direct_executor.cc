// Direct executor: the tuner's choice becomes a kernel and its shape (blocks, slice size).
#include "gpu/direct_executor.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

#include "base/device.h"
#include "base/fault_injection.h"
#include "core/call_signature.h"
#include "cpu/p2p_fusion.h"
#include "kernels/launch.h"

namespace tutti {
namespace {

Result launchCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "launching %s: %s", what, cudaGetErrorString(e));
}

size_t ceilDiv(size_t a, size_t b) { return (a + b - 1) / b; }

// Blocks (channels) for `want`, within TUTTI_MIN/MAX_CHANNELS and the kernel's cap.
int clampBlocks(const CommConfig& cfg, size_t want, int cap) {
  int limit = cfg.maxChannels > 0 ? std::min(cap, cfg.maxChannels) : cap;
  int lo = std::max(1, cfg.minChannels);
  return static_cast<int>(std::max<size_t>(std::min<size_t>(want, limit), std::min(lo, limit)));
}

// Largest pack-aligned element count of one scratch slot (`slots` slots per parity).
size_t slotElems(const GpuState& g, int slots, size_t es) {
  return scratchSlotBytes(g.regionBytes, slots) / es;
}

// Elements per block per iteration: the count spread over `blocks`, pack-aligned, at most
// `maxElems`.
size_t sliceFor(size_t count, int blocks, size_t maxElems, size_t es) {
  size_t pack = 16 / es;
  size_t s = ceilDiv(ceilDiv(count, blocks), pack) * pack;
  return std::max<size_t>(pack, std::min(s, maxElems / pack * pack));
}

}  // namespace

DirectExecutor::DirectExecutor(Comm* comm, std::unique_ptr<GpuState> state)
    : comm_(comm), state_(std::move(state)) {}

Result DirectExecutor::launch(std::vector<CommCalls>& work) {
  TUTTI_TRY(gpuSetDevice(comm_->config.device));
  // An error an earlier kernel left (a call mismatch, a timeout) fails this call at once: its
  // kernel would only wait for peers that have given up.
  if (Result e = pollError(); e != tuttiSuccess) return comm_->fail(e);
  for (CommCalls& w : work) {
    TUTTI_TRY(comm_->checkUsable());
    const std::vector<CollCall>& calls = w.calls;
    for (size_t i = 0; i < calls.size();) {
      const CollCall& c = calls[i];
      if (!isP2p(c) && c.collective != Collective::kAllToAllv) {
        TUTTI_CHECK(launchCollective(c), "%s", collectiveName(c.collective));
        ++i;
        continue;
      }
      // A run of sends and receives on one stream (or one AllToAllv) is one fused launch.
      size_t j = i + 1;
      if (isP2p(c))
        while (j < calls.size() && isP2p(calls[j]) && calls[j].stream == c.stream) ++j;
      TUTTI_CHECK(launchPointToPoint(calls, i, j), "%s", collectiveName(c.collective));
      i = j;
    }
  }
  return tuttiSuccess;
}

Result DirectExecutor::launchOne(tuttiComm* comm, CollCall&& c) {
  if (isP2p(c) || c.collective == Collective::kAllToAllv)
    return Executor::launchOne(comm, std::move(c));
  TUTTI_TRY(gpuSetDevice(comm_->config.device));
  if (Result e = pollError(); e != tuttiSuccess) return comm_->fail(e);
  TUTTI_TRY(comm_->checkUsable());
  TUTTI_CHECK(launchCollective(c), "%s", collectiveName(c.collective));
  return tuttiSuccess;
}

Result DirectExecutor::launchCollective(const CollCall& c) {
  const GpuState& g = *state_;
  const CommConfig& cfg = comm_->config;
  const int n = cfg.nranks;
  if (faultArmed()) {
    // TUTTI_FAULT where=gpu (tested by the lead on a GPU): hang leaves the kernel out, so the
    // peers' kernels wait on this rank's flags until their timeout; close fails the comm,
    // which sets the abort word every peer kernel polls.
    int64_t delayMs = 0;
    const FaultKind fk = faultFire(FaultWhere::kGpu, cfg.rank, c.seq, &delayMs);
    if (!faultActGeneric(fk, delayMs)) {
      if (fk == FaultKind::kHang) return tuttiSuccess;
      if (fk == FaultKind::kClose)
        return comm_->fail(setError(tuttiRemoteError,
                                    "fault injection (TUTTI_FAULT): dropped the GPU connections"));
    }
  }
  const size_t es = dtypeSize(c.dtype);
  cudaStream_t stream = static_cast<cudaStream_t>(c.stream);
  const size_t bytes = c.count * es;
  if (n == 1 && c.op < tuttiNumOps) {
    // One rank: every collective's output is its input (avg divides by 1). A copy-engine
    // copy, or nothing in place, as NCCL does; PreMulSum still needs its scaling kernel.
    if (c.sendbuff == c.recvbuff) return tuttiSuccess;
    return launchCheck(
        cudaMemcpyAsync(c.recvbuff, c.sendbuff, bytes, cudaMemcpyDeviceToDevice, stream),
        "single-rank copy");
  }
  const size_t tuned = tunerBytes(c, n);
  TunerChoice choice = comm_->tuner.decide(ExecutorKind::kGpuDirect, c.collective, tuned);
  if (!choice.supported) return setError(tuttiInvalidUsage, "%s", choice.error.c_str());
  GpuCollArgs a{};
  a.comm = g.devComm;
  a.send = static_cast<const char*>(c.sendbuff);
  a.recv = static_cast<char*>(c.recvbuff);
  a.count = c.count;
  a.elemSize = es;
  a.root = c.root;
  a.divisor = c.op == tuttiAvg ? n : 0;
  a.premul = c.op >= tuttiNumOps;  // PreMulSum: kernels scale this rank's input, then sum
  a.scalar = c.premulScalar;
  a.checkCall = g.checkCalls;
  a.callSig = g.checkCalls ? callSignature64(c) : 0;
  const CombineKind k = combineOf(c.op);
  cudaError_t err = cudaErrorInvalidValue;
  // Shapes: a block per 16 KiB (per shard for two-shot), up to 16 blocks for one-shot and 32
  // for the others; slices that fit the kernel's scratch slots.
  switch (c.collective) {
    case Collective::kAllReduce:
      if (choice.algorithm == Algorithm::kDirect) {
        a.blocks = clampBlocks(cfg, ceilDiv(bytes, 16u << 10), 16);
        a.sliceElems = sliceFor(c.count, a.blocks, slotElems(g, n, es), es);
        err = launchOneShotAllReduce(a, c.dtype, k, stream);
      } else {
        a.blocks = clampBlocks(cfg, ceilDiv(bytes, n * (16u << 10)), 32);
        a.sliceElems = sliceFor(c.count, a.blocks, n * slotElems(g, 2 * n, es), es);
        err = launchTwoShotAllReduce(a, c.dtype, k, stream);
      }
      break;
    case Collective::kReduceScatter:
    case Collective::kReduce:
      a.blocks = clampBlocks(cfg, ceilDiv(bytes, 16u << 10), 32);
      a.sliceElems = sliceFor(c.count, a.blocks, slotElems(g, n, es), es);
      err = c.collective == Collective::kReduce ? launchReduce(a, c.dtype, k, stream)
                                                : launchReduceScatter(a, c.dtype, k, stream);
      break;
    case Collective::kAllGather:
    case Collective::kAllToAll:
    case Collective::kBroadcast:
      a.blocks = clampBlocks(cfg, ceilDiv(bytes, 16u << 10), 32);
      a.sliceElems = sliceFor(c.count, a.blocks, slotElems(g, n, es), es);
      err = c.collective == Collective::kAllGather  ? launchAllGather(a, stream)
            : c.collective == Collective::kAllToAll ? launchAllToAll(a, stream)
                                                    : launchBroadcast(a, stream);
      break;
    default:
      return setError(tuttiInternalError, "%s is not a kernel collective",
                      collectiveName(c.collective));
  }
  TUTTI_TRY(launchCheck(err, collectiveName(c.collective)));
  choice.channels = a.blocks;
  comm_->tuner.noteRan(ExecutorKind::kGpuDirect, c.collective, tuned, choice);
  return tuttiSuccess;
}

// One fused launch for calls[first, last): sends and receives, or one AllToAllv as the same.
Result DirectExecutor::launchPointToPoint(const std::vector<CollCall>& calls, size_t first,
                                          size_t last) {
  struct Msg {
    int peer;
    bool isSend;
    char* buf;
    size_t bytes;
  };
  const int me = comm_->rank();
  const CollCall& c0 = calls[first];
  cudaStream_t stream = static_cast<cudaStream_t>(c0.stream);
  std::vector<Msg> msgs;
  size_t sent = 0;
  for (size_t j = first; j < last; ++j) {
    const CollCall& d = calls[j];
    const size_t es = dtypeSize(d.dtype);
    if (d.collective == Collective::kAllToAllv) {
      for (int p = 0; p < comm_->nranks(); ++p) {
        msgs.push_back(
            {p, true,
             const_cast<char*>(static_cast<const char*>(d.sendbuff)) + d.sendDispls[p] * es,
             d.sendCounts[p] * es});
        msgs.push_back({p, false, static_cast<char*>(d.recvbuff) + d.recvDispls[p] * es,
                        d.recvCounts[p] * es});
      }
    } else {
      const bool send = d.collective == Collective::kSend;
      msgs.push_back({d.peer, send,
                      send ? const_cast<char*>(static_cast<const char*>(d.sendbuff))
                           : static_cast<char*>(d.recvbuff),
                      d.count * es});
    }
  }
  // Self messages: the k-th send to self feeds the k-th receive from self.
  std::vector<Msg> selfSend, selfRecv, remote;
  for (auto& m : msgs) {
    if (m.bytes == 0) continue;
    if (m.isSend) sent += m.bytes;
    if (m.peer == me)
      (m.isSend ? selfSend : selfRecv).push_back(m);
    else
      remote.push_back(m);
  }
  if (selfSend.size() != selfRecv.size())
    return setError(tuttiInvalidUsage, "%zu sends to self but %zu receives from self in one group",
                    selfSend.size(), selfRecv.size());
  for (size_t k = 0; k < selfSend.size(); ++k) {
    if (selfSend[k].bytes != selfRecv[k].bytes)
      return setError(tuttiInvalidArgument,
                      "send to self of %zu bytes matched a receive of %zu bytes", selfSend[k].bytes,
                      selfRecv[k].bytes);
    TUTTI_TRY(launchCheck(cudaMemcpyAsync(selfRecv[k].buf, selfSend[k].buf, selfSend[k].bytes,
                                          cudaMemcpyDeviceToDevice, stream),
                          "self copy"));
  }
  TunerChoice ran = comm_->tuner.decide(ExecutorKind::kGpuDirect, c0.collective, sent);
  if (!ran.supported) return setError(tuttiInvalidUsage, "%s", ran.error.c_str());
  if (remote.empty()) {
    comm_->tuner.noteRan(ExecutorKind::kGpuDirect, c0.collective, sent, ran);
    return tuttiSuccess;
  }
  // Messages to one (peer, direction) stay in order and share blocks.
  std::stable_sort(remote.begin(), remote.end(), [](const Msg& x, const Msg& y) {
    return x.peer != y.peer ? x.peer < y.peer : x.isSend < y.isSend;
  });
  if (remote.size() > static_cast<size_t>(kMaxP2pOps))
    return setError(tuttiNotSupported, "%zu point-to-point operations in one group (at most %d)",
                    remote.size(), kMaxP2pOps);
  auto args = std::make_unique<GpuP2pArgs>();
  memset(args.get(), 0, sizeof(GpuP2pArgs));
  args->comm = state_->devComm;
  int blocks = 0;
  for (size_t i = 0; i < remote.size();) {
    size_t j = i, maxBytes = 0;
    while (j < remote.size() && remote[j].peer == remote[i].peer &&
           remote[j].isSend == remote[i].isSend) {
      maxBytes = std::max(maxBytes, remote[j].bytes);
      args->ops[j] =
          GpuP2pOp{remote[j].buf, remote[j].bytes, remote[j].peer, remote[j].isSend ? 1 : 0};
      ++j;
    }
    // Both sides derive the block count from the message sizes alone, so they agree.
    int nb = static_cast<int>(std::min<size_t>(
        kMaxP2pBlocks, std::max<size_t>(1, ceilDiv(maxBytes, state_->p2pChunkBytes))));
    args->lists[args->numLists++] =
        GpuP2pList{static_cast<int>(i), static_cast<int>(j - i), blocks, nb};
    blocks += nb;
    i = j;
  }
  args->numOps = static_cast<int>(remote.size());
  TUTTI_TRY(launchCheck(launchP2pKernel(*args, blocks, stream), "point-to-point kernel"));
  ran.channels = blocks;
  comm_->tuner.noteRan(ExecutorKind::kGpuDirect, c0.collective, sent, ran);
  return tuttiSuccess;
}

Result DirectExecutor::synchronize() {
  TUTTI_TRY(gpuSetDevice(comm_->config.device));
  cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) {
    cudaGetLastError();
    return setError(tuttiCudaError, "cudaDeviceSynchronize failed: %s", cudaGetErrorString(e));
  }
  return pollError();
}

Result DirectExecutor::pollError() { return state_->pollError(comm_->config.timeoutMs); }

void DirectExecutor::abort() { state_->abort(); }

}  // namespace tutti
