// NCCL calls on their way to Tutti: lowered to Tutti calls (Gather and Scatter become grouped
// point-to-point), checked by Tutti's own rules at call time, and submitted through Tutti's
// internal entry point at launch time, PreMulSum scalars carried in the calls themselves.
#include "shim/shim_call.h"

#include <cstdint>
#include <cstring>

#include "core/api_guard.h"
#include "core/call_checks.h"
#include "core/group.h"
#include "shim/cuda_runtime_access.h"
#include "shim/shim_compress.h"
#include "shim/shim_error.h"

namespace tutti::shim {
namespace {

const char* dtypeName(ncclDataType_t dtype) {
  static const char* names[] = {"ncclInt8",    "ncclUint8",    "ncclInt32",      "ncclUint32",
                                "ncclInt64",   "ncclUint64",   "ncclFloat16",    "ncclFloat32",
                                "ncclFloat64", "ncclBfloat16", "ncclFloat8e4m3", "ncclFloat8e5m2"};
  return dtype >= 0 && dtype < ncclNumTypes ? names[dtype] : "?";
}

bool reduces(CallKind k) {
  return k == CallKind::kAllReduce || k == CallKind::kReduce || k == CallKind::kReduceScatter;
}

ncclResult_t checkOp(ShimCall* call, const char* fn) {
  const int op = call->op;
  if (op >= 0 && op < ncclNumOps) return ncclSuccess;
  ncclComm* c = call->comm.get();
  std::lock_guard<std::mutex> lock(c->mutex);
  const size_t slot = static_cast<size_t>(op) - ncclNumOps;
  if (op < 0 || slot >= c->ops.size() || !c->opLive[slot])
    return fail(ncclInvalidArgument,
                "%s: op %d is neither a built-in ncclRedOp_t nor a live operator created on "
                "this communicator by ncclRedOpCreatePreMulSum",
                fn, op);
  const PreMulSpec& spec = c->ops[slot];
  if (spec.dtype != call->dtype)
    return fail(ncclInvalidArgument, "%s: op %d was created for %s but the call's datatype is %s",
                fn, op, dtypeName(spec.dtype), dtypeName(call->dtype));
  call->premul = true;
  call->premulSpec = spec;
  return ncclSuccess;
}

// Reads a PreMulSum scalar the way NCCL does when the collective runs: a device-visible
// address is read in the order of the call's stream, after everything enqueued before it.
ncclResult_t readScalar(const ShimCall& c, uint64_t* value, const char* fn) {
  const PreMulSpec& spec = c.premulSpec;
  *value = 0;
  if (spec.residence == ncclScalarHostImmediate) {
    *value = spec.value;
    return ncclSuccess;
  }
  const size_t bytes = dtypeBytes(spec.dtype);
  if (!isDeviceMemory(spec.address)) {
    memcpy(value, spec.address, bytes);  // host-visible memory: read at launch
    return ncclSuccess;
  }
  const CudaRuntime& rt = cudaRuntime();
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (rt.streamIsCapturing(c.stream, &capture) != cudaSuccess) rt.getLastError();
  if (capture != cudaStreamCaptureStatusNone)
    return fail(ncclInvalidUsage,
                "%s: a PreMulSum operator with a device-resident scalar (ncclScalarDevice) "
                "cannot be captured in a CUDA graph by Tutti: its scalar is read on the host "
                "when the collective is launched; use ncclScalarHostImmediate",
                fn);
  cudaError_t e = rt.memcpyAsync(value, spec.address, bytes, cudaMemcpyDeviceToHost, c.stream);
  if (e == cudaSuccess) e = rt.streamSynchronize(c.stream);
  if (e != cudaSuccess)
    return fail(ncclUnhandledCudaError,
                "%s: reading the ncclScalarDevice PreMulSum scalar at %p: %s", fn, spec.address,
                rt.getErrorString(e));
  return ncclSuccess;
}

tutti::CollCall collCall(const ShimCall& c, tutti::Collective coll, const void* send, void* recv,
                         int rootOrPeer) {
  tutti::CollCall cc;
  cc.collective = coll;
  cc.sendbuff = send;
  cc.recvbuff = recv;
  cc.count = c.count;
  cc.dtype = static_cast<tuttiDataType_t>(c.dtype);
  cc.op = c.premul ? tuttiNumOps : static_cast<tuttiRedOp_t>(c.op);
  cc.premulResolved = c.premul;  // the scalar is filled in at launch
  cc.root = rootOrPeer;
  cc.peer = rootOrPeer;
  cc.stream = static_cast<tuttiStream_t>(c.stream);
  return cc;
}

// The Tutti calls of one NCCL call. Gather and Scatter become sends and receives (the root's
// own block a send to itself, so it stays ordered with the rest of the group).
void lower(const ShimCall& c, std::vector<tutti::CollCall>* out) {
  using tutti::Collective;
  out->clear();
  switch (c.kind) {
    case CallKind::kAllReduce:
      out->push_back(collCall(c, Collective::kAllReduce, c.sendbuff, c.recvbuff, 0));
      return;
    case CallKind::kBroadcast:
      out->push_back(collCall(c, Collective::kBroadcast, c.sendbuff, c.recvbuff, c.root));
      return;
    case CallKind::kReduce:
      out->push_back(collCall(c, Collective::kReduce, c.sendbuff, c.recvbuff, c.root));
      return;
    case CallKind::kAllGather:
      out->push_back(collCall(c, Collective::kAllGather, c.sendbuff, c.recvbuff, 0));
      return;
    case CallKind::kReduceScatter:
      out->push_back(collCall(c, Collective::kReduceScatter, c.sendbuff, c.recvbuff, 0));
      return;
    case CallKind::kAllToAll:
      out->push_back(collCall(c, Collective::kAllToAll, c.sendbuff, c.recvbuff, 0));
      return;
    case CallKind::kSend:
      out->push_back(collCall(c, Collective::kSend, c.sendbuff, nullptr, c.root));
      return;
    case CallKind::kRecv:
      out->push_back(collCall(c, Collective::kRecv, nullptr, c.recvbuff, c.root));
      return;
    case CallKind::kGather:
    case CallKind::kScatter: break;
  }
  const bool gather = c.kind == CallKind::kGather;
  const size_t bytes = c.count * dtypeBytes(c.dtype);
  if (c.comm->rank != c.root) {
    out->push_back(gather ? collCall(c, Collective::kSend, c.sendbuff, nullptr, c.root)
                          : collCall(c, Collective::kRecv, nullptr, c.recvbuff, c.root));
    return;
  }
  for (int p = 0; p < c.comm->nranks; ++p) {
    char* block = static_cast<char*>(gather ? c.recvbuff : const_cast<void*>(c.sendbuff)) +
                  static_cast<size_t>(p) * bytes;
    if (p != c.root) {
      out->push_back(gather ? collCall(c, Collective::kRecv, nullptr, block, p)
                            : collCall(c, Collective::kSend, block, nullptr, p));
      continue;
    }
    const void* from = gather ? c.sendbuff : block;
    void* to = gather ? static_cast<void*>(block) : c.recvbuff;
    if (from == to) continue;  // in place
    out->push_back(collCall(c, Collective::kSend, from, nullptr, p));
    out->push_back(collCall(c, Collective::kRecv, nullptr, to, p));
  }
}

// Tutti's checks on the lowered calls; the communicator must exist by now.
ncclResult_t checkWithTutti(ShimCall* call, const char* fn) {
  tuttiComm_t t = call->comm->tutti.load();
  if (!t)
    return fail(ncclInvalidUsage, "%s: the communicator was not created (see ncclGroupEnd)", fn);
  lower(*call, &call->prepared);
  tutti::clearError();
  for (tutti::CollCall& cc : call->prepared) {
    const tutti::Result r = tutti::checkCall(t, cc);
    if (r != tuttiSuccess) {
      t->recordError();
      return failFromTutti(r, fn);
    }
  }
  call->checked = true;
  return ncclSuccess;
}

}  // namespace

size_t dtypeBytes(ncclDataType_t dtype) {
  switch (dtype) {
    case ncclInt8:
    case ncclUint8:
    case ncclFloat8e4m3:
    case ncclFloat8e5m2: return 1;
    case ncclFloat16:
    case ncclBfloat16: return 2;
    case ncclInt32:
    case ncclUint32:
    case ncclFloat32: return 4;
    case ncclInt64:
    case ncclUint64:
    case ncclFloat64: return 8;
    default: return 0;
  }
}

ncclResult_t prepareCall(ShimCall* call, const char* fn) {
  const int op = call->op;
  if (reduces(call->kind) && op >= ncclNumOps) {
    ncclResult_t r = checkOp(call, fn);  // the shim's own PreMulSum operators
    if (r != ncclSuccess) return r;
  }
  if (call->kind == CallKind::kGather || call->kind == CallKind::kScatter) {
    // Collectives Tutti does not have: their root and the root's n-block buffer are ours.
    const int n = call->comm->nranks;
    const size_t es = dtypeBytes(call->dtype);
    if (call->root < 0 || call->root >= n)
      return fail(ncclInvalidArgument, "%s: root %d is out of range 0..%d", fn, call->root, n - 1);
    if (es && call->count > (SIZE_MAX >> 1) / n / es)
      return fail(ncclInvalidArgument,
                  "%s: count %zu overflows the root's buffer (%d blocks of %zu-byte elements)", fn,
                  call->count, n, es);
  }
  if (call->comm->commState() != CommState::kReady || !call->comm->tutti.load())
    return ncclSuccess;  // created inside this group: checked when the group launches
  return checkWithTutti(call, fn);
}

ncclResult_t launchCalls(std::vector<ShimCall>& calls, bool grouped, const char* fn) {
  // Everything that can fail in the shim happens before anything reaches Tutti, so that a
  // failure never launches half a group.
  for (ShimCall& c : calls) {
    if (c.comm->closed.load() || c.comm->revoked.load())
      return fail(ncclInvalidUsage,
                  "%s: a communicator of the group was %s before the group was launched", fn,
                  c.comm->closed.load() ? "destroyed or aborted" : "revoked");
    if (!c.checked) {
      ncclResult_t r = checkWithTutti(&c, fn);
      if (r != ncclSuccess) return r;
    }
    if (!c.premul) continue;
    uint64_t value = 0;
    ncclResult_t r = readScalar(c, &value, fn);
    if (r != ncclSuccess) return r;
    for (tutti::CollCall& cc : c.prepared) cc.premulScalar = value;
  }
  if (!grouped && calls.size() == 1 && calls[0].kind == CallKind::kAllReduce) {
    tuttiResult_t compressed;  // TUTTI_SHIM_COMPRESS (shim_compress.h)
    if (shimCompressedAllReduce(calls[0], static_cast<tuttiRedOp_t>(calls[0].op), &compressed))
      return failFromTutti(compressed, fn);
  }
  size_t total = 0;
  for (const ShimCall& c : calls) total += c.prepared.size();
  const bool group = grouped || total > 1;
  tutti::clearError();
  tutti::Result result = tuttiSuccess;
  if (group) tutti::groupStart();
  for (ShimCall& c : calls) {
    tuttiComm_t t = c.comm->tutti.load();
    tutti::ActiveCall active(t);
    for (tutti::CollCall& cc : c.prepared) {
      if (result == tuttiSuccess) result = tutti::submitCall(t, std::move(cc));
      if (result != tuttiSuccess) {
        if (group) tutti::groupRecordError(result);
        t->recordError();
      }
    }
    c.prepared.clear();
  }
  if (group) {
    // Tutti drops the whole group when one call failed and says which in its sentence.
    const tutti::Result end = tutti::groupEnd();
    if (end != tuttiSuccess) {
      result = end;
      for (ShimCall& c : calls) c.comm->tutti.load()->recordError();
    }
  }
  return failFromTutti(result, fn);
}

}  // namespace tutti::shim
