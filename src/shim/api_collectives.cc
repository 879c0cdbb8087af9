// NCCL entry points for collectives, point-to-point, group calls and PreMulSum operators.
// Every call is checked here and then launched through the group layer (shim_group.h).
#include <cstring>

#include "shim/env_map.h"
#include "shim/shim_call.h"
#include "shim/shim_error.h"
#include "shim/shim_group.h"

using namespace tutti::shim;

namespace {

ncclResult_t submit(const char* fn, ncclComm_t comm, CallKind kind, const void* sendbuff,
                    void* recvbuff, size_t count, ncclDataType_t dtype, ncclRedOp_t op, int root,
                    cudaStream_t stream) {
  applyNcclEnvironment();
  return guarded(fn, [&] {
    ShimCall call;
    ncclResult_t r = acquireReadyComm(comm, fn, &call.comm);
    if (r != ncclSuccess) {
      recordGroupError(r);
      return r;
    }
    call.kind = kind;
    call.sendbuff = sendbuff;
    call.recvbuff = recvbuff;
    call.count = count;
    call.dtype = dtype;
    call.op = op;
    call.root = root;
    call.stream = stream;
    return submitCall(std::move(call), fn);
  });
}

}  // namespace

NCCL_SHIM_API ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count,
                                         ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                                         cudaStream_t stream) {
  return submit("ncclAllReduce", comm, CallKind::kAllReduce, sendbuff, recvbuff, count, datatype,
                op, 0, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclAllReduce);

NCCL_SHIM_API ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count,
                                         ncclDataType_t datatype, int root, ncclComm_t comm,
                                         cudaStream_t stream) {
  return submit("ncclBroadcast", comm, CallKind::kBroadcast, sendbuff, recvbuff, count, datatype,
                ncclSum, root, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclBroadcast);

NCCL_SHIM_API ncclResult_t ncclBcast(void* buff, size_t count, ncclDataType_t datatype, int root,
                                     ncclComm_t comm, cudaStream_t stream) {
  return submit("ncclBcast", comm, CallKind::kBroadcast, buff, buff, count, datatype, ncclSum, root,
                stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclBcast);

NCCL_SHIM_API ncclResult_t ncclReduce(const void* sendbuff, void* recvbuff, size_t count,
                                      ncclDataType_t datatype, ncclRedOp_t op, int root,
                                      ncclComm_t comm, cudaStream_t stream) {
  return submit("ncclReduce", comm, CallKind::kReduce, sendbuff, recvbuff, count, datatype, op,
                root, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclReduce);

NCCL_SHIM_API ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount,
                                         ncclDataType_t datatype, ncclComm_t comm,
                                         cudaStream_t stream) {
  return submit("ncclAllGather", comm, CallKind::kAllGather, sendbuff, recvbuff, sendcount,
                datatype, ncclSum, 0, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclAllGather);

NCCL_SHIM_API ncclResult_t ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount,
                                             ncclDataType_t datatype, ncclRedOp_t op,
                                             ncclComm_t comm, cudaStream_t stream) {
  return submit("ncclReduceScatter", comm, CallKind::kReduceScatter, sendbuff, recvbuff, recvcount,
                datatype, op, 0, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclReduceScatter);

NCCL_SHIM_API ncclResult_t ncclAlltoAll(const void* sendbuff, void* recvbuff, size_t count,
                                        ncclDataType_t datatype, ncclComm_t comm,
                                        cudaStream_t stream) {
  return submit("ncclAlltoAll", comm, CallKind::kAllToAll, sendbuff, recvbuff, count, datatype,
                ncclSum, 0, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclAlltoAll);

NCCL_SHIM_API ncclResult_t ncclGather(const void* sendbuff, void* recvbuff, size_t count,
                                      ncclDataType_t datatype, int root, ncclComm_t comm,
                                      cudaStream_t stream) {
  return submit("ncclGather", comm, CallKind::kGather, sendbuff, recvbuff, count, datatype, ncclSum,
                root, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclGather);

NCCL_SHIM_API ncclResult_t ncclScatter(const void* sendbuff, void* recvbuff, size_t count,
                                       ncclDataType_t datatype, int root, ncclComm_t comm,
                                       cudaStream_t stream) {
  return submit("ncclScatter", comm, CallKind::kScatter, sendbuff, recvbuff, count, datatype,
                ncclSum, root, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclScatter);

NCCL_SHIM_API ncclResult_t ncclSend(const void* sendbuff, size_t count, ncclDataType_t datatype,
                                    int peer, ncclComm_t comm, cudaStream_t stream) {
  return submit("ncclSend", comm, CallKind::kSend, sendbuff, nullptr, count, datatype, ncclSum,
                peer, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclSend);

NCCL_SHIM_API ncclResult_t ncclRecv(void* recvbuff, size_t count, ncclDataType_t datatype, int peer,
                                    ncclComm_t comm, cudaStream_t stream) {
  return submit("ncclRecv", comm, CallKind::kRecv, nullptr, recvbuff, count, datatype, ncclSum,
                peer, stream);
}
NCCL_SHIM_PROFILING_ALIAS(ncclRecv);

NCCL_SHIM_API ncclResult_t ncclGroupStart() {
  applyNcclEnvironment();
  groupStart();
  return ncclSuccess;
}
NCCL_SHIM_PROFILING_ALIAS(ncclGroupStart);

NCCL_SHIM_API ncclResult_t ncclGroupEnd() {
  applyNcclEnvironment();
  return guarded("ncclGroupEnd", [] { return groupEnd("ncclGroupEnd", nullptr); });
}
NCCL_SHIM_PROFILING_ALIAS(ncclGroupEnd);

NCCL_SHIM_API ncclResult_t ncclGroupSimulateEnd(ncclSimInfo_t* simInfo) {
  applyNcclEnvironment();
  return guarded("ncclGroupSimulateEnd", [&] {
    if (!simInfo) return fail(ncclInvalidArgument, "ncclGroupSimulateEnd: simInfo is NULL");
    return groupEnd("ncclGroupSimulateEnd", simInfo);
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclGroupSimulateEnd);

NCCL_SHIM_API ncclResult_t ncclRedOpCreatePreMulSum(ncclRedOp_t* op, void* scalar,
                                                    ncclDataType_t datatype,
                                                    ncclScalarResidence_t residence,
                                                    ncclComm_t comm) {
  applyNcclEnvironment();
  return guarded("ncclRedOpCreatePreMulSum", [&] {
    const char* fn = "ncclRedOpCreatePreMulSum";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r != ncclSuccess) return r;
    if (!op) return fail(ncclInvalidArgument, "%s: op is NULL", fn);
    if (!scalar) return fail(ncclInvalidArgument, "%s: scalar is NULL", fn);
    const size_t es = dtypeBytes(datatype);
    if (es == 0)
      return fail(ncclInvalidArgument, "%s: datatype %d is not an ncclDataType_t", fn,
                  static_cast<int>(datatype));
    PreMulSpec spec;
    spec.dtype = datatype;
    spec.residence = residence;
    switch (residence) {
      case ncclScalarHostImmediate: memcpy(&spec.value, scalar, es); break;
      // Read when each collective using the op is launched (shim_call.cc, readScalar).
      case ncclScalarDevice: spec.address = scalar; break;
      default:
        return fail(ncclInvalidArgument, "%s: residence %d is not an ncclScalarResidence_t", fn,
                    static_cast<int>(residence));
    }
    std::lock_guard<std::mutex> lock(c->mutex);
    size_t slot = 0;
    while (slot < c->opLive.size() && c->opLive[slot]) ++slot;
    if (slot >= static_cast<size_t>(ncclMaxRedOp - ncclNumOps))
      return fail(ncclInvalidUsage, "%s: too many live operators on this communicator", fn);
    if (slot == c->ops.size()) {
      c->ops.push_back(spec);
      c->opLive.push_back(true);
    } else {
      c->ops[slot] = spec;
      c->opLive[slot] = true;
    }
    *op = static_cast<ncclRedOp_t>(ncclNumOps + static_cast<int>(slot));
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclRedOpCreatePreMulSum);

NCCL_SHIM_API ncclResult_t ncclRedOpDestroy(ncclRedOp_t op, ncclComm_t comm) {
  applyNcclEnvironment();
  return guarded("ncclRedOpDestroy", [&] {
    const char* fn = "ncclRedOpDestroy";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r != ncclSuccess) return r;
    // Calls already made with `op` carry their own copy of it, so it may go at once (NCCL
    // allows destroying an op as soon as the last call using it has returned).
    std::lock_guard<std::mutex> lock(c->mutex);
    const int v = op;
    const size_t slot = static_cast<size_t>(v) - ncclNumOps;
    if (v < ncclNumOps || slot >= c->opLive.size() || !c->opLive[slot])
      return fail(ncclInvalidArgument,
                  "%s: op %d was not created by ncclRedOpCreatePreMulSum on this communicator "
                  "(or was destroyed already)",
                  fn, v);
    c->opLive[slot] = false;
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclRedOpDestroy);
