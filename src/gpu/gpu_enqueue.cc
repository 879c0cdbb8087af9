// Device-buffer collectives: choose the kernel and its shape for each call and launch it on
// the caller's stream. Ranks that cannot map each other take the host-staged path: copy to
// pinned memory, run the CPU executor from a stream callback, copy back.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "base/logging.h"
#include "core/coll_call.h"
#include "core/gpu_hooks.h"
#include "core/host_launch.h"
#include "gpu/gpu_comm.h"
#include "kernels/launch.h"

namespace tutti {
namespace {

Result launchCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "launching %s: %s", what, cudaGetErrorString(e));
}

size_t ceilDiv(size_t a, size_t b) { return (a + b - 1) / b; }

int clampBlocks(const Comm* comm, size_t want, int cap) {
  int limit = comm->maxChannels > 0 ? std::min(cap, comm->maxChannels) : cap;
  int lo = std::max(1, comm->minChannels);
  return static_cast<int>(std::max<size_t>(std::min<size_t>(want, limit), std::min(lo, limit)));
}

// Largest pack-aligned element count of one scratch slot (`perRegion` slots per parity).
size_t slotElems(const GpuComm& g, int perRegion, size_t es) {
  return scratchSlotBytes(g.regionBytes, perRegion) / es;
}

// Elements per block per iteration: the count spread over `blocks`, pack-aligned, at most
// `maxElems`.
size_t sliceFor(size_t count, int blocks, size_t maxElems, size_t es) {
  size_t pack = 16 / es;
  size_t s = ceilDiv(ceilDiv(count, blocks), pack) * pack;
  return std::max<size_t>(pack, std::min(s, maxElems / pack * pack));
}

Result launchCollective(Comm* comm, const CollCall& c) {
  GpuComm& g = *comm->gpu;
  const int n = comm->nranks;
  const size_t es = dtypeSize(c.dtype);
  cudaStream_t stream = static_cast<cudaStream_t>(c.stream);
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
  const size_t bytes = c.count * es;
  if (n == 1 && !a.premul) {
    // One rank: every collective's output is its input (avg divides by 1). A copy-engine
    // copy, or nothing in place, as NCCL does; PreMulSum still needs the scaling kernel.
    if (c.sendbuff == c.recvbuff) return tuttiSuccess;
    return launchCheck(
        cudaMemcpyAsync(c.recvbuff, c.sendbuff, bytes, cudaMemcpyDeviceToDevice, stream),
        "single-rank copy");
  }
  switch (c.collective) {
    case Collective::kAllReduce: {
      // One-shot moves (n-1) S per rank in one barrier, two-shot 2 (n-1)/n S in two: the
      // crossover (measured on H200, perf/NOTES.md) is near 512 KiB for 2 ranks, 256 KiB for 4.
      TunerChoice choice = comm->tuner.decide(Executor::kGpu, Collective::kAllReduce, bytes);
      const bool forced = std::string(choice.source) != "model";
      const size_t oneShotMax = n <= 2 ? (512u << 10) : (256u << 10);
      const bool oneShot = forced ? choice.algorithm == Algorithm::kDirect : bytes <= oneShotMax;
      if (oneShot) {
        a.mode = GpuMode::kAllReduceOneShot;
        a.blocks = clampBlocks(comm, ceilDiv(bytes, 16u << 10), 16);
        a.sliceElems = sliceFor(c.count, a.blocks, slotElems(g, n, es), es);
      } else {
        a.mode = GpuMode::kAllReduceTwoShot;
        a.blocks = clampBlocks(comm, ceilDiv(bytes, n * (16u << 10)), 32);
        a.sliceElems = sliceFor(c.count, a.blocks, n * slotElems(g, 2 * n, es), es);
      }
      return launchCheck(launchReduceKernel(a, c.dtype, combineOf(c.op), stream),
                         "AllReduce kernel");
    }
    case Collective::kReduceScatter:
    case Collective::kReduce:
      a.mode = c.collective == Collective::kReduce ? GpuMode::kReduce : GpuMode::kReduceScatter;
      a.blocks = clampBlocks(comm, ceilDiv(bytes, 16u << 10), 32);
      a.sliceElems = sliceFor(c.count, a.blocks, slotElems(g, n, es), es);
      return launchCheck(launchReduceKernel(a, c.dtype, combineOf(c.op), stream),
                         collectiveName(c.collective));
    case Collective::kAllGather:
    case Collective::kAllToAll:
    case Collective::kBroadcast:
      a.mode = c.collective == Collective::kAllGather  ? GpuMode::kAllGather
               : c.collective == Collective::kAllToAll ? GpuMode::kAllToAll
                                                       : GpuMode::kBroadcast;
      a.blocks = clampBlocks(comm, ceilDiv(bytes, 16u << 10), 32);
      a.sliceElems = sliceFor(c.count, a.blocks, slotElems(g, n, es), es);
      return launchCheck(launchCopyKernel(a, stream), collectiveName(c.collective));
    default:
      return setError(tuttiInternalError, "%s is not a kernel collective",
                      collectiveName(c.collective));
  }
}

// One fused launch for a run of Send/Recv calls (AllToAllv arrives here as sends and recvs).
struct P2pMsg {
  int peer;
  bool isSend;
  char* buf;
  size_t bytes;
};

Result launchP2p(Comm* comm, std::vector<P2pMsg>& msgs, cudaStream_t stream) {
  GpuComm& g = *comm->gpu;
  // Self messages: the k-th send to self feeds the k-th receive from self.
  std::vector<P2pMsg> selfSend, selfRecv, remote;
  for (auto& m : msgs) {
    if (m.bytes == 0) continue;
    if (m.peer == comm->rank)
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
  if (remote.empty()) return tuttiSuccess;
  // Messages to one (peer, direction) stay in order and share blocks.
  std::stable_sort(remote.begin(), remote.end(), [](const P2pMsg& x, const P2pMsg& y) {
    return x.peer != y.peer ? x.peer < y.peer : x.isSend < y.isSend;
  });
  if (remote.size() > static_cast<size_t>(kMaxP2pOps))
    return setError(tuttiNotSupported, "%zu point-to-point operations in one group (at most %d)",
                    remote.size(), kMaxP2pOps);
  auto args = std::make_unique<GpuP2pArgs>();
  memset(args.get(), 0, sizeof(GpuP2pArgs));
  args->comm = g.devComm;
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
    int nb = static_cast<int>(
        std::min<size_t>(kMaxP2pBlocks, std::max<size_t>(1, ceilDiv(maxBytes, g.p2pChunkBytes))));
    args->lists[args->numLists++] =
        GpuP2pList{static_cast<int>(i), static_cast<int>(j - i), blocks, nb};
    blocks += nb;
    i = j;
  }
  args->numOps = static_cast<int>(remote.size());
  return launchCheck(launchP2pKernel(*args, blocks, stream), "point-to-point kernel");
}

// ---- Host-staged path -------------------------------------------------------------------

struct StagedWork {
  Comm* comm;
  CollCall call;  // host pointers into the staging buffers
};

void CUDART_CB runStaged(void* p) {
  std::unique_ptr<StagedWork> w(static_cast<StagedWork*>(p));
  std::vector<std::pair<Comm*, std::vector<CollCall>>> work(1);
  work[0].first = w->comm;
  work[0].second.push_back(w->call);
  Result r = runHostCalls(work);  // on failure the comm is marked failed for GetAsyncError
  if (r != tuttiSuccess)
    TUTTI_WARN("host-staged %s failed: %s", collectiveName(w->call.collective),
               lastError().c_str());
}

Result launchStaged(Comm* comm, const CollCall& c) {
  GpuComm& g = *comm->gpu;
  const int n = comm->nranks;
  const size_t es = dtypeSize(c.dtype);
  cudaStream_t stream = static_cast<cudaStream_t>(c.stream);
  size_t inBytes = c.count * es, outBytes = c.count * es;
  switch (c.collective) {
    case Collective::kAllGather: outBytes *= n; break;
    case Collective::kReduceScatter: inBytes *= n; break;
    case Collective::kAllToAll:
      inBytes *= n;
      outBytes *= n;
      break;
    case Collective::kAllToAllv:
      inBytes = outBytes = 0;
      for (int p = 0; p < n; ++p) {
        inBytes = std::max(inBytes, (c.sendDispls[p] + c.sendCounts[p]) * es);
        outBytes = std::max(outBytes, (c.recvDispls[p] + c.recvCounts[p]) * es);
      }
      break;
    case Collective::kSend: outBytes = 0; break;
    case Collective::kRecv: inBytes = 0; break;
    default: break;
  }
  if (c.collective == Collective::kReduce && comm->rank != c.root) outBytes = 0;
  TUTTI_TRY(g.ensureStaging(std::max<size_t>(std::max(inBytes, outBytes), 1)));
  auto w = std::make_unique<StagedWork>();
  w->comm = comm;
  w->call = c;
  w->call.onDevice = false;
  w->call.sendbuff = inBytes ? g.stageSend : nullptr;
  w->call.recvbuff = g.stageRecv;
  if (c.collective == Collective::kSend) w->call.recvbuff = nullptr;
  if (inBytes)
    TUTTI_TRY(launchCheck(
        cudaMemcpyAsync(g.stageSend, c.sendbuff, inBytes, cudaMemcpyDeviceToHost, stream),
        "staging copy"));
  TUTTI_TRY(launchCheck(cudaLaunchHostFunc(stream, runStaged, w.get()), "host-staged collective"));
  w.release();
  if (c.collective == Collective::kAllToAllv) {
    // Only the blocks the call describes: the gaps between them are the caller's memory.
    for (int p = 0; p < n; ++p) {
      const size_t off = c.recvDispls[p] * es, len = c.recvCounts[p] * es;
      if (len)
        TUTTI_TRY(
            launchCheck(cudaMemcpyAsync(static_cast<char*>(c.recvbuff) + off, g.stageRecv + off,
                                        len, cudaMemcpyHostToDevice, stream),
                        "staging copy"));
    }
  } else if (outBytes) {
    TUTTI_TRY(launchCheck(
        cudaMemcpyAsync(c.recvbuff, g.stageRecv, outBytes, cudaMemcpyHostToDevice, stream),
        "staging copy"));
  }
  return tuttiSuccess;
}

}  // namespace

Result gpuEnqueue(tuttiComm* comm, const CollCall* calls, size_t n) {
  if (!comm->gpu) return setError(tuttiInvalidUsage, "communicator has no GPU state");
  TUTTI_TRY(gpuSetDevice(comm->device));
  TUTTI_TRY(comm->checkUsable());
  if (!comm->gpu->direct) {
    // One call at a time through pinned staging buffers, in stream order.
    for (size_t i = 0; i < n; ++i) {
      if ((calls[i].collective == Collective::kSend || calls[i].collective == Collective::kRecv) &&
          n > 1)
        return setError(tuttiNotSupported, "grouped send/receive on the host-staged GPU path (%s)",
                        comm->gpu->whyNotDirect.c_str());
      TUTTI_CHECK(launchStaged(comm, calls[i]), "host-staged %s",
                  collectiveName(calls[i].collective));
    }
    return tuttiSuccess;
  }
  for (size_t i = 0; i < n;) {
    const CollCall& c = calls[i];
    const bool p2p = c.collective == Collective::kSend || c.collective == Collective::kRecv;
    if (!p2p && c.collective != Collective::kAllToAllv) {
      TUTTI_CHECK(launchCollective(comm, c), "%s", collectiveName(c.collective));
      ++i;
      continue;
    }
    // A run of sends/receives on one stream becomes one fused launch.
    std::vector<P2pMsg> msgs;
    cudaStream_t stream = static_cast<cudaStream_t>(c.stream);
    size_t j = i;
    for (; j < n; ++j) {
      const CollCall& d = calls[j];
      const bool dp2p = d.collective == Collective::kSend || d.collective == Collective::kRecv;
      if (j > i && (d.stream != c.stream || (!dp2p && d.collective != Collective::kAllToAllv)))
        break;
      const size_t es = dtypeSize(d.dtype);
      if (d.collective == Collective::kAllToAllv) {
        for (int p = 0; p < comm->nranks; ++p) {
          msgs.push_back(
              {p, true,
               const_cast<char*>(static_cast<const char*>(d.sendbuff)) + d.sendDispls[p] * es,
               d.sendCounts[p] * es});
          msgs.push_back({p, false, static_cast<char*>(d.recvbuff) + d.recvDispls[p] * es,
                          d.recvCounts[p] * es});
        }
      } else {
        msgs.push_back({d.peer, d.collective == Collective::kSend,
                        d.collective == Collective::kSend
                            ? const_cast<char*>(static_cast<const char*>(d.sendbuff))
                            : static_cast<char*>(d.recvbuff),
                        d.count * es});
      }
      if (d.collective == Collective::kAllToAllv) {
        ++j;
        break;
      }
    }
    TUTTI_CHECK(launchP2p(comm, msgs, stream), "%s", collectiveName(c.collective));
    i = j;
  }
  return tuttiSuccess;
}

}  // namespace tutti
