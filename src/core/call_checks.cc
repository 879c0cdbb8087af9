// Argument checks per collective.
#include "core/call_checks.h"

#include <algorithm>
#include <cstdint>

#include "base/device.h"
#include "core/api_guard.h"
#include "core/flight_recorder.h"
#include "core/group.h"
#include "kernels/dtype_dispatch.h"

namespace tutti {
namespace {

bool overlaps(const void* a, size_t an, const void* b, size_t bn) {
  auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return an && bn && x < y + bn && y < x + an;
}

Result checkCommon(Comm* comm, tuttiDataType_t dtype) {
  TUTTI_TRY(checkComm(comm));
  TUTTI_TRY(comm->checkUsable());
  if (comm->finalized) return setError(tuttiInvalidUsage, "communicator was finalized");
  if (dtypeSize(dtype) == 0)
    return setError(tuttiInvalidArgument, "datatype %d is not a tuttiDataType_t", dtype);
  return tuttiSuccess;
}

// Valid ops: the built-in ones, or a live PreMulSum op of this dtype, whose scalar is copied
// into the call now (the op may be destroyed before a group launches).
Result checkOp(Comm* comm, CollCall& c) {
  if (c.op >= tuttiNumOps && c.premulResolved) return tuttiSuccess;  // the shim's own operator
  return comm->redOps.resolve(c.op, c.dtype, &c.premulScalar);
}

// count * factor * elemSize must fit in size_t (and in the 63-bit range the plans use).
Result checkCount(size_t count, size_t factor, size_t es, const char* name) {
  const size_t limit = SIZE_MAX >> 1;
  if (es == 0 || (factor && count > limit / factor / es))
    return setError(tuttiInvalidArgument,
                    "%s %zu overflows the byte count (x%zu elements of %zu bytes)", name, count,
                    factor, es);
  return tuttiSuccess;
}

Result checkRoot(Comm* comm, int root, const char* what) {
  if (root < 0 || root >= comm->nranks())
    return setError(tuttiInvalidArgument, "%s %d is out of range 0..%d", what, root,
                    comm->nranks() - 1);
  return tuttiSuccess;
}

// Decides host vs device execution; buffers of one call must agree.
//
// A CUDA build asks the driver about each pointer (cudaPointerGetAttributes, ~60 ns on an H200
// host, 2026-12-02): two queries per call are a fifth of a small host AllReduce. The buffers
// of this thread's last call that turned out to be host memory skip them: the driver places
// device and managed memory in address ranges it reserves for itself, so an address where
// host memory was found never becomes device memory.
Result classify(Comm* comm, CollCall& c, const void* a, const void* b) {
  struct HostPair {
    const void* a = nullptr;
    const void* b = nullptr;
  };
  static thread_local HostPair lastHost;  // one TLS lookup per call
  HostPair& last = lastHost;
  if ((a || b) && a == last.a && b == last.b) {
    c.onDevice = false;
    return tuttiSuccess;
  }
  int devA = -1, devB = -1;
  bool da = a && gpuIsDevicePointer(a, &devA);
  bool db = b && gpuIsDevicePointer(b, &devB);
  if (a && b && da != db)
    return setError(tuttiInvalidArgument, "sendbuff is %s memory but recvbuff is %s memory",
                    da ? "device" : "host", db ? "device" : "host");
  c.onDevice = da || db;
  if (!c.onDevice) last = HostPair{a, b};
  if (c.onDevice) {
    if (comm->config.device < 0)
      return setError(tuttiInvalidArgument, "device buffers passed to a host-only communicator");
    int dev = da ? devA : devB;
    if (dev != comm->config.device)
      return setError(tuttiInvalidArgument, "buffer is on GPU %d but the communicator uses GPU %d",
                      dev, comm->config.device);
  }
  return tuttiSuccess;
}

Result checkAllReduce(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  TUTTI_TRY(checkOp(comm, c));
  const size_t es = dtypeSize(c.dtype);
  TUTTI_TRY(checkCount(c.count, 1, es, "count"));
  if (c.count == 0) return tuttiSuccess;
  if (!c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  if (!c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  if (c.sendbuff != c.recvbuff && overlaps(c.sendbuff, c.count * es, c.recvbuff, c.count * es))
    return setError(tuttiInvalidArgument,
                    "sendbuff and recvbuff overlap without being equal (in place)");
  return classify(comm, c, c.sendbuff, c.recvbuff);
}

Result checkAllGather(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  const size_t es = dtypeSize(c.dtype);
  TUTTI_TRY(checkCount(c.count, comm->nranks(), es, "sendcount"));
  if (c.count == 0) return tuttiSuccess;
  if (!c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  if (!c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  const size_t bytes = c.count * es;
  const char* inPlace = static_cast<const char*>(c.recvbuff) + comm->rank() * bytes;
  if (c.sendbuff != inPlace && overlaps(c.sendbuff, bytes, c.recvbuff, bytes * comm->nranks()))
    return setError(tuttiInvalidArgument,
                    "sendbuff overlaps recvbuff but is not recvbuff + rank * sendcount (in place)");
  return classify(comm, c, c.sendbuff, c.recvbuff);
}

Result checkReduceScatter(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  TUTTI_TRY(checkOp(comm, c));
  const size_t es = dtypeSize(c.dtype);
  TUTTI_TRY(checkCount(c.count, comm->nranks(), es, "recvcount"));
  if (c.count == 0) return tuttiSuccess;
  if (!c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  if (!c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  const size_t bytes = c.count * es;
  const char* inPlace = static_cast<const char*>(c.sendbuff) + comm->rank() * bytes;
  if (c.recvbuff != inPlace && overlaps(c.sendbuff, bytes * comm->nranks(), c.recvbuff, bytes))
    return setError(tuttiInvalidArgument,
                    "recvbuff overlaps sendbuff but is not sendbuff + rank * recvcount (in place)");
  return classify(comm, c, c.sendbuff, c.recvbuff);
}

Result checkAllToAll(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  const size_t es = dtypeSize(c.dtype);
  TUTTI_TRY(checkCount(c.count, comm->nranks(), es, "count"));
  if (c.count == 0) return tuttiSuccess;
  if (!c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  if (!c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  const size_t bytes = c.count * es * comm->nranks();
  if (c.sendbuff != c.recvbuff && overlaps(c.sendbuff, bytes, c.recvbuff, bytes))
    return setError(tuttiInvalidArgument,
                    "sendbuff and recvbuff overlap without being equal (in place)");
  return classify(comm, c, c.sendbuff, c.recvbuff);
}

Result checkAllToAllv(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  const size_t es = dtypeSize(c.dtype);
  size_t sendExtent = 0, recvExtent = 0;
  for (int p = 0; p < comm->nranks(); ++p) {
    TUTTI_TRY(checkCount(c.sendCounts[p], 1, es, "sendcounts[p]"));
    TUTTI_TRY(checkCount(c.recvCounts[p], 1, es, "recvcounts[p]"));
    TUTTI_TRY(checkCount(c.sendDispls[p], 1, es, "sdispls[p]"));
    TUTTI_TRY(checkCount(c.recvDispls[p], 1, es, "rdispls[p]"));
    if (c.sendCounts[p])
      sendExtent = std::max(sendExtent, (c.sendDispls[p] + c.sendCounts[p]) * es);
    if (c.recvCounts[p])
      recvExtent = std::max(recvExtent, (c.recvDispls[p] + c.recvCounts[p]) * es);
  }
  for (int p = 0; p < comm->nranks(); ++p)
    for (int q = p + 1; q < comm->nranks(); ++q)
      if (overlaps(reinterpret_cast<void*>(c.recvDispls[p] * es), c.recvCounts[p] * es,
                   reinterpret_cast<void*>(c.recvDispls[q] * es), c.recvCounts[q] * es))
        return setError(tuttiInvalidArgument, "recvcounts/rdispls of ranks %d and %d overlap", p,
                        q);
  if (sendExtent && !c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  if (recvExtent && !c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  if (overlaps(c.sendbuff, sendExtent, c.recvbuff, recvExtent))
    return setError(tuttiInvalidArgument,
                    "sendbuff and recvbuff overlap (AllToAllv is not in place)");
  return classify(comm, c, sendExtent ? c.sendbuff : nullptr, recvExtent ? c.recvbuff : nullptr);
}

Result checkBroadcast(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  TUTTI_TRY(checkRoot(comm, c.root, "root"));
  const size_t es = dtypeSize(c.dtype);
  TUTTI_TRY(checkCount(c.count, 1, es, "count"));
  if (c.count == 0) return tuttiSuccess;
  const bool root = comm->rank() == c.root;
  if (root && !c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL at the root");
  if (!c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  if (!root) c.sendbuff = c.recvbuff;  // only the root's input is read
  if (c.sendbuff != c.recvbuff && overlaps(c.sendbuff, c.count * es, c.recvbuff, c.count * es))
    return setError(tuttiInvalidArgument,
                    "sendbuff and recvbuff overlap without being equal (in place)");
  return classify(comm, c, c.sendbuff, c.recvbuff);
}

Result checkReduce(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  TUTTI_TRY(checkOp(comm, c));
  TUTTI_TRY(checkRoot(comm, c.root, "root"));
  const size_t es = dtypeSize(c.dtype);
  TUTTI_TRY(checkCount(c.count, 1, es, "count"));
  if (c.count == 0) return tuttiSuccess;
  const bool root = comm->rank() == c.root;
  if (!c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  if (root && !c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL at the root");
  if (!root) c.recvbuff = nullptr;  // never written off the root
  if (root && c.sendbuff != c.recvbuff &&
      overlaps(c.sendbuff, c.count * es, c.recvbuff, c.count * es))
    return setError(tuttiInvalidArgument,
                    "sendbuff and recvbuff overlap without being equal (in place)");
  return classify(comm, c, c.sendbuff, c.recvbuff);
}

Result checkSend(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  TUTTI_TRY(checkRoot(comm, c.peer, "peer"));
  TUTTI_TRY(checkCount(c.count, 1, dtypeSize(c.dtype), "count"));
  if (c.count && !c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  return classify(comm, c, c.count ? c.sendbuff : nullptr, nullptr);
}

Result checkRecv(Comm* comm, CollCall& c) {
  TUTTI_TRY(checkCommon(comm, c.dtype));
  TUTTI_TRY(checkRoot(comm, c.peer, "peer"));
  TUTTI_TRY(checkCount(c.count, 1, dtypeSize(c.dtype), "count"));
  if (c.count && !c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  return classify(comm, c, nullptr, c.count ? c.recvbuff : nullptr);
}

}  // namespace

Result checkCall(Comm* comm, CollCall& c) {
  switch (c.collective) {
    case Collective::kAllReduce: return checkAllReduce(comm, c);
    case Collective::kAllGather: return checkAllGather(comm, c);
    case Collective::kReduceScatter: return checkReduceScatter(comm, c);
    case Collective::kAllToAll: return checkAllToAll(comm, c);
    case Collective::kAllToAllv: return checkAllToAllv(comm, c);
    case Collective::kBroadcast: return checkBroadcast(comm, c);
    case Collective::kReduce: return checkReduce(comm, c);
    case Collective::kSend: return checkSend(comm, c);
    case Collective::kRecv: return checkRecv(comm, c);
    default: return setError(tuttiInternalError, "collective %d has no checks", (int)c.collective);
  }
}

Result checkAndSubmit(Comm* comm, CollCall&& call) {
  Result r = checkCall(comm, call);
  const bool empty = call.collective != Collective::kAllToAllv && call.count == 0;
  if (r == tuttiSuccess && empty) {  // nothing to move, but numbered like every call
    noteCall(comm, call);
    if (call.flightId) comm->flight->finished(call.flightId, true);
    return tuttiSuccess;
  }
  if (r == tuttiSuccess) r = submitCall(comm, std::move(call));
  if (r != tuttiSuccess) groupRecordError(r);
  return r;
}

}  // namespace tutti
