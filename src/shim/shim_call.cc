// Checking NCCL calls at call time and forwarding them to Tutti at launch time (Gather and
// Scatter become grouped point-to-point; PreMulSum becomes a short-lived Tutti operator).
#include "shim/shim_call.h"

#include <cstdint>
#include <cstring>

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

bool rooted(CallKind k) {
  return k == CallKind::kBroadcast || k == CallKind::kReduce || k == CallKind::kGather ||
         k == CallKind::kScatter;
}

// How many `count`-element blocks the largest buffer of the call holds.
size_t blocks(CallKind k, int nranks) {
  switch (k) {
    case CallKind::kAllGather:
    case CallKind::kReduceScatter:
    case CallKind::kAllToAll:
    case CallKind::kGather:
    case CallKind::kScatter: return static_cast<size_t>(nranks);
    default: return 1;
  }
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

ncclResult_t checkBuffers(const ShimCall& c, int rank, const char* fn) {
  if (c.count == 0) return ncclSuccess;
  const bool atRoot = rank == c.root;
  bool needSend = true, needRecv = true;
  switch (c.kind) {
    case CallKind::kBroadcast: needSend = atRoot; break;
    case CallKind::kReduce: needRecv = atRoot; break;
    case CallKind::kGather: needRecv = atRoot; break;
    case CallKind::kScatter: needSend = atRoot; break;
    case CallKind::kSend: needRecv = false; break;
    case CallKind::kRecv: needSend = false; break;
    default: break;
  }
  if (needSend && !c.sendbuff)
    return fail(ncclInvalidArgument, "%s: sendbuff is NULL%s", fn,
                rooted(c.kind) ? " at the root" : "");
  if (needRecv && !c.recvbuff)
    return fail(ncclInvalidArgument, "%s: recvbuff is NULL%s", fn,
                rooted(c.kind) && c.kind != CallKind::kBroadcast ? " at the root" : "");
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

struct TempOp {
  tuttiComm_t comm;
  tuttiRedOp_t op;
};

// Gather and Scatter as grouped Send/Recv (the root's own block goes through a self
// send/recv so that it stays ordered with the rest of the group).
tuttiResult_t forwardRooted(const ShimCall& c) {
  tuttiComm_t t = c.comm->tutti.load();
  const auto ds = static_cast<tuttiDataType_t>(c.dtype);
  const auto s = static_cast<tuttiStream_t>(c.stream);
  const size_t bytes = c.count * dtypeBytes(c.dtype);
  const bool gather = c.kind == CallKind::kGather;
  tuttiResult_t r = tuttiGroupStart();
  if (r != tuttiSuccess) return r;
  if (c.comm->rank != c.root) {
    r = gather ? tuttiSend(c.sendbuff, c.count, ds, c.root, t, s)
               : tuttiRecv(c.recvbuff, c.count, ds, c.root, t, s);
  } else {
    for (int p = 0; p < c.comm->nranks && r == tuttiSuccess; ++p) {
      char* block = static_cast<char*>(gather ? c.recvbuff : const_cast<void*>(c.sendbuff)) +
                    static_cast<size_t>(p) * bytes;
      if (p != c.root) {
        r = gather ? tuttiRecv(block, c.count, ds, p, t, s)
                   : tuttiSend(block, c.count, ds, p, t, s);
        continue;
      }
      const void* from = gather ? c.sendbuff : block;
      void* to = gather ? static_cast<void*>(block) : c.recvbuff;
      if (from == to) continue;  // in place
      r = tuttiSend(from, c.count, ds, p, t, s);
      if (r == tuttiSuccess) r = tuttiRecv(to, c.count, ds, p, t, s);
    }
  }
  tuttiResult_t end = tuttiGroupEnd();
  return r != tuttiSuccess ? r : end;
}

tuttiResult_t forward(const ShimCall& c, tuttiRedOp_t op) {
  tuttiComm_t t = c.comm->tutti.load();
  const auto ds = static_cast<tuttiDataType_t>(c.dtype);
  const auto s = static_cast<tuttiStream_t>(c.stream);
  switch (c.kind) {
    case CallKind::kAllReduce: {
      tuttiResult_t compressed;  // TUTTI_SHIM_COMPRESS (shim_compress.h)
      if (shimCompressedAllReduce(c, op, &compressed)) return compressed;
      return tuttiAllReduce(c.sendbuff, c.recvbuff, c.count, ds, op, t, s);
    }
    case CallKind::kBroadcast:
      return tuttiBroadcast(c.sendbuff, c.recvbuff, c.count, ds, c.root, t, s);
    case CallKind::kReduce:
      return tuttiReduce(c.sendbuff, c.recvbuff, c.count, ds, op, c.root, t, s);
    case CallKind::kAllGather: return tuttiAllGather(c.sendbuff, c.recvbuff, c.count, ds, t, s);
    case CallKind::kReduceScatter:
      return tuttiReduceScatter(c.sendbuff, c.recvbuff, c.count, ds, op, t, s);
    case CallKind::kAllToAll: return tuttiAllToAll(c.sendbuff, c.recvbuff, c.count, ds, t, s);
    case CallKind::kGather:
    case CallKind::kScatter: return forwardRooted(c);
    case CallKind::kSend: return tuttiSend(c.sendbuff, c.count, ds, c.root, t, s);
    case CallKind::kRecv: return tuttiRecv(c.recvbuff, c.count, ds, c.root, t, s);
  }
  return tuttiInternalError;
}

void destroyTemps(const std::vector<TempOp>& temps) {
  for (const TempOp& t : temps) tuttiRedOpDestroy(t.op, t.comm);
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
  const size_t es = dtypeBytes(call->dtype);
  if (es == 0)
    return fail(ncclInvalidArgument, "%s: datatype %d is not an ncclDataType_t", fn,
                static_cast<int>(call->dtype));
  const int nranks = call->comm->nranks;
  if (reduces(call->kind)) {
    ncclResult_t r = checkOp(call, fn);
    if (r != ncclSuccess) return r;
  }
  const bool p2p = call->kind == CallKind::kSend || call->kind == CallKind::kRecv;
  if ((p2p || rooted(call->kind)) && (call->root < 0 || call->root >= nranks))
    return fail(ncclInvalidArgument, "%s: %s %d is out of range 0..%d", fn, p2p ? "peer" : "root",
                call->root, nranks - 1);
  const size_t factor = blocks(call->kind, nranks);
  if (call->count > (SIZE_MAX >> 1) / factor / es)
    return fail(ncclInvalidArgument,
                "%s: count %zu overflows the buffer size (%zu blocks of %zu-byte "
                "elements)",
                fn, call->count, factor, es);
  return checkBuffers(*call, call->comm->rank, fn);
}

ncclResult_t launchCalls(std::vector<ShimCall>& calls, bool grouped, const char* fn) {
  // Everything that can fail in the shim happens before anything reaches Tutti, so that a
  // failure never launches half a group.
  std::vector<TempOp> temps;
  std::vector<tuttiRedOp_t> ops(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    ShimCall& c = calls[i];
    if (c.comm->closed.load() || c.comm->revoked.load()) {
      destroyTemps(temps);
      return fail(ncclInvalidUsage,
                  "%s: a communicator of the group was %s before the group "
                  "was launched",
                  fn, c.comm->closed.load() ? "destroyed or aborted" : "revoked");
    }
    ops[i] = static_cast<tuttiRedOp_t>(c.op);
    if (!c.premul) continue;
    uint64_t value = 0;
    ncclResult_t r = readScalar(c, &value, fn);
    tuttiComm_t t = c.comm->tutti.load();
    if (r == ncclSuccess) {
      r = failFromTutti(
          tuttiRedOpCreatePreMulSum(&ops[i], &value, static_cast<tuttiDataType_t>(c.dtype), t), fn);
      if (r == ncclSuccess) temps.push_back({t, ops[i]});
    }
    if (r != ncclSuccess) {
      destroyTemps(temps);
      return r;
    }
  }
  tuttiResult_t result = tuttiSuccess;
  if (grouped) result = tuttiGroupStart();
  for (size_t i = 0; i < calls.size() && result == tuttiSuccess; ++i)
    result = forward(calls[i], ops[i]);
  if (grouped) {
    // Tutti drops the whole group when one call failed and says which in its sentence.
    tuttiResult_t end = tuttiGroupEnd();
    if (end != tuttiSuccess) result = end;
  }
  ncclResult_t r = failFromTutti(result, fn);
  destroyTemps(temps);  // after the launch: Tutti reads PreMulSum scalars when it launches
  return r;
}

}  // namespace tutti::shim
