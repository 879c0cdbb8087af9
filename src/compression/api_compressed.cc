// C API of gradient compression: error-feedback states and the compressed collectives. Every
// argument is checked here, before any user memory is touched; the call then runs on the host
// or device algorithm (compressed_host.cc, compressed_device.cc).
#include <cstdint>
#include <cstring>

#include "base/device.h"
#include "compression/codec_spec.h"
#include "compression/compress_state.h"
#include "compression/compressed_call.h"
#include "compression/device_memory.h"
#include "core/api_guard.h"
#include "core/group.h"
#include "kernels/dtype_dispatch.h"

using namespace tutti;

namespace {

const char* kindName(CompressedKind k) {
  switch (k) {
    case CompressedKind::kAllReduce: return "AllReduce";
    case CompressedKind::kReduceScatter: return "ReduceScatter";
    default: return "AllGather";
  }
}

Result checkDtype(tuttiDataType_t dtype) {
  if (dtypeSize(dtype) == 0)
    return setError(tuttiInvalidArgument, "datatype %d is not a tuttiDataType_t", dtype);
  if (dtype != tuttiFloat32 && dtype != tuttiFloat16 && dtype != tuttiBfloat16)
    return setError(tuttiNotSupported,
                    "compressed collectives take float32, float16 or bfloat16 data, not %s",
                    dtypeName(dtype));
  return tuttiSuccess;
}

Result checkOp(tuttiRedOp_t op) {
  if (op == tuttiSum || op == tuttiAvg) return tuttiSuccess;
  if (op >= 0 && op < tuttiNumOps)
    return setError(tuttiNotSupported, "compressed collectives reduce with sum or avg, not %s",
                    opName(op));
  if (op >= tuttiNumOps)
    return setError(tuttiNotSupported,
                    "compressed collectives reduce with sum or avg, not a PreMulSum op (%d)", op);
  return setError(tuttiInvalidArgument, "op %d is not a tuttiRedOp_t", op);
}

bool overlaps(const void* a, size_t an, const void* b, size_t bn) {
  auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return an && bn && x < y + bn && y < x + an;
}

// Checks buffers, placement and error-feedback state of a compressed call.
Result checkCall(Comm* comm, CompressedCall& c, const tuttiCompression_t* compression) {
  TUTTI_TRY(comm->checkUsable());
  if (comm->finalized) return setError(tuttiInvalidUsage, "communicator was finalized");
  if (inGroup())
    return setError(tuttiInvalidUsage,
                    "compressed collectives cannot be called between tuttiGroupStart and "
                    "tuttiGroupEnd (each runs several exchanges in sequence): call it outside "
                    "the group");
  TUTTI_TRY(checkCompression(compression, &c.spec, &c.interNodeOnly));
  TUTTI_TRY(checkDtype(c.dtype));
  if (c.kind != CompressedKind::kAllGather) TUTTI_TRY(checkOp(c.op));
  const int P = comm->nranks();
  const size_t es = dtypeSize(c.dtype);  // 2 or 4: checked above
  const size_t factor = c.kind == CompressedKind::kAllReduce ? 1 : static_cast<size_t>(P);
  if (P < 1 || es == 0) return setError(tuttiInternalError, "communicator without ranks");
  const char* countName = c.kind == CompressedKind::kAllReduce       ? "count"
                          : c.kind == CompressedKind::kReduceScatter ? "recvcount"
                                                                     : "sendcount";
  if (c.count > (SIZE_MAX >> 1) / factor / es)
    return setError(tuttiInvalidArgument,
                    "%s %zu overflows the byte count (x%zu elements of %zu bytes)", countName,
                    c.count, factor, es);
  // Elements this rank contributes (what an error-feedback state covers).
  const size_t inCount = c.kind == CompressedKind::kReduceScatter ? c.count * P : c.count;
  if (c.spec.codec == tuttiCodecTopK) {
    const size_t segment = c.kind == CompressedKind::kReduceScatter ? c.count
                           : c.kind == CompressedKind::kAllGather   ? c.count
                                                                    : c.count / P + 128;
    if (segment >= (size_t{1} << 32))
      return setError(tuttiNotSupported,
                      "top-k segments are limited to 2^32 elements (uint32 indices); this call "
                      "sends %zu",
                      segment);
  }
  if (!c.state && codecNeedsErrorFeedback(c.spec.codec))
    return setError(tuttiInvalidArgument,
                    "codec %s needs an error-feedback state (tuttiCompressStateCreate): without "
                    "one, what it does not send is lost for good",
                    codecName(c.spec.codec));
  if (c.state) {
    TUTTI_TRY(checkCompressState(c.state));
    if (c.state->comm != comm)
      return setError(tuttiInvalidArgument, "state was created for another communicator");
    if (c.state->count != inCount)
      return setError(tuttiInvalidArgument,
                      "state was created for %zu elements but this %s's sendbuff holds %zu",
                      c.state->count, kindName(c.kind), inCount);
    if (c.state->dtype != c.dtype)
      return setError(tuttiInvalidArgument, "state was created for %s but datatype is %s",
                      dtypeName(c.state->dtype), dtypeName(c.dtype));
  }
  if (c.count == 0) return tuttiSuccess;
  if (!c.sendbuff) return setError(tuttiInvalidArgument, "sendbuff is NULL");
  if (!c.recvbuff) return setError(tuttiInvalidArgument, "recvbuff is NULL");
  const size_t bytes = c.count * es;
  switch (c.kind) {
    case CompressedKind::kAllReduce:
      if (c.sendbuff != c.recvbuff && overlaps(c.sendbuff, bytes, c.recvbuff, bytes))
        return setError(tuttiInvalidArgument,
                        "sendbuff and recvbuff overlap without being equal (in place)");
      break;
    case CompressedKind::kReduceScatter: {
      const char* inPlace = static_cast<const char*>(c.sendbuff) + comm->rank() * bytes;
      if (c.recvbuff != inPlace && overlaps(c.sendbuff, bytes * P, c.recvbuff, bytes))
        return setError(tuttiInvalidArgument,
                        "recvbuff overlaps sendbuff but is not sendbuff + rank * recvcount "
                        "(in place)");
      break;
    }
    case CompressedKind::kAllGather: {
      const char* inPlace = static_cast<const char*>(c.recvbuff) + comm->rank() * bytes;
      if (c.sendbuff != inPlace && overlaps(c.sendbuff, bytes, c.recvbuff, bytes * P))
        return setError(tuttiInvalidArgument,
                        "sendbuff overlaps recvbuff but is not recvbuff + rank * sendcount (in "
                        "place)");
      break;
    }
  }
  int devA = -1, devB = -1;
  const bool da = gpuIsDevicePointer(c.sendbuff, &devA);
  const bool db = gpuIsDevicePointer(c.recvbuff, &devB);
  if (da != db)
    return setError(tuttiInvalidArgument, "sendbuff is %s memory but recvbuff is %s memory",
                    da ? "device" : "host", db ? "device" : "host");
  c.onDevice = da;
  if (c.onDevice) {
    if (comm->config.device < 0)
      return setError(tuttiInvalidArgument, "device buffers passed to a host-only communicator");
    if (devA != comm->config.device)
      return setError(tuttiInvalidArgument, "buffer is on GPU %d but the communicator uses GPU %d",
                      devA, comm->config.device);
  }
  if (c.state && c.state->onDevice != c.onDevice)
    return setError(tuttiInvalidArgument,
                    "state lives in %s memory but the buffers are %s memory: create it with "
                    "tuttiMemory%s",
                    c.state->onDevice ? "device" : "host", c.onDevice ? "device" : "host",
                    c.onDevice ? "Device" : "Host");
  return tuttiSuccess;
}

tuttiResult_t runCall(const char* fn, Comm* comm, const tuttiCompression_t* compression,
                      CompressedCall call) {
  return apiCall(fn, comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    ActiveCall active(comm);
    TUTTI_TRY(checkCall(comm, call, compression));
    if (call.count == 0) return tuttiSuccess;
    return call.onDevice ? runCompressedDevice(comm, call) : runCompressedHost(comm, call);
  });
}

CompressedCall makeCall(CompressedKind kind, const void* s, void* r, size_t count,
                        tuttiDataType_t dt, tuttiRedOp_t op, tuttiCompressState_t state,
                        tuttiStream_t stream) {
  CompressedCall c;
  c.kind = kind;
  c.sendbuff = s;
  c.recvbuff = r;
  c.count = count;
  c.dtype = dt;
  c.op = op;
  c.state = state;
  c.stream = stream;
  return c;
}

}  // namespace

extern "C" {

tuttiResult_t tuttiCompressStateCreate(tuttiCompressState_t* state, size_t count,
                                       tuttiDataType_t datatype, tuttiMemoryKind_t memory,
                                       tuttiComm_t comm) {
  return apiCall("tuttiCompressStateCreate", comm, [&]() -> Result {
    if (!state) return setError(tuttiInvalidArgument, "state (the output pointer) is NULL");
    *state = nullptr;
    TUTTI_TRY(checkComm(comm));
    TUTTI_TRY(comm->checkUsable());
    TUTTI_TRY(checkDtype(datatype));
    if (memory != tuttiMemoryHost && memory != tuttiMemoryDevice)
      return setError(tuttiInvalidArgument, "memory %d is not tuttiMemoryHost or tuttiMemoryDevice",
                      memory);
    if (memory == tuttiMemoryDevice && comm->config.device < 0)
      return setError(tuttiInvalidArgument,
                      "memory is tuttiMemoryDevice but the communicator is host-only");
    if (count > (SIZE_MAX >> 1) / sizeof(float))
      return setError(tuttiInvalidArgument, "count %zu overflows the residual's byte count", count);
    auto s = std::make_unique<CompressState>();
    s->comm = comm;
    s->count = count;
    s->dtype = datatype;
    s->onDevice = memory == tuttiMemoryDevice;
    s->device = comm->config.device;
    if (s->onDevice) {
      if (count) {
        void* p = nullptr;
        TUTTI_TRY(deviceAlloc(s->device, count * sizeof(float), &p));
        s->residual = static_cast<float*>(p);
        Result r = deviceZero(s->device, p, count * sizeof(float));
        if (r != tuttiSuccess) {
          destroyCompressState(s.release());
          return r;
        }
      }
    } else {
      s->hostResidual.assign(count, 0.0f);
      s->residual = s->hostResidual.data();
    }
    *state = s.release();
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCompressStateReset(tuttiCompressState_t state) {
  return apiCall("tuttiCompressStateReset", nullptr, [&]() -> Result {
    if (!state) return setError(tuttiInvalidArgument, "state is NULL");
    TUTTI_TRY(checkCompressState(state));
    if (state->onDevice) {
      if (state->count) TUTTI_TRY(deviceZero(state->device, state->residual, state->count * 4));
      if (state->shardLen)
        TUTTI_TRY(deviceZero(state->device, state->shardResidual, state->shardLen * 4));
    } else {
      std::fill(state->hostResidual.begin(), state->hostResidual.end(), 0.0f);
      std::fill(state->hostShard.begin(), state->hostShard.end(), 0.0f);
    }
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCompressStateDestroy(tuttiCompressState_t state) {
  return apiCall("tuttiCompressStateDestroy", nullptr, [&]() -> Result {
    if (!state) return tuttiSuccess;  // like free(NULL)
    TUTTI_TRY(checkCompressState(state));
    destroyCompressState(state);
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCompressedSize(const tuttiCompression_t* compression, size_t count,
                                  size_t* bytes) {
  return apiCall("tuttiCompressedSize", nullptr, [&]() -> Result {
    if (!bytes) return setError(tuttiInvalidArgument, "bytes is NULL");
    CodecSpec spec;
    bool interNode = false;
    TUTTI_TRY(checkCompression(compression, &spec, &interNode));
    if (count > (SIZE_MAX >> 2))
      return setError(tuttiInvalidArgument, "count %zu is too large", count);
    *bytes = codec::segmentLayout(spec, count).bytes;
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiAllReduceCompressed(const void* sendbuff, void* recvbuff, size_t count,
                                       tuttiDataType_t datatype, tuttiRedOp_t op,
                                       const tuttiCompression_t* compression,
                                       tuttiCompressState_t state, tuttiComm_t comm,
                                       tuttiStream_t stream) {
  return runCall(
      "tuttiAllReduceCompressed", comm, compression,
      makeCall(CompressedKind::kAllReduce, sendbuff, recvbuff, count, datatype, op, state, stream));
}

tuttiResult_t tuttiReduceScatterCompressed(const void* sendbuff, void* recvbuff, size_t recvcount,
                                           tuttiDataType_t datatype, tuttiRedOp_t op,
                                           const tuttiCompression_t* compression,
                                           tuttiCompressState_t state, tuttiComm_t comm,
                                           tuttiStream_t stream) {
  return runCall("tuttiReduceScatterCompressed", comm, compression,
                 makeCall(CompressedKind::kReduceScatter, sendbuff, recvbuff, recvcount, datatype,
                          op, state, stream));
}

tuttiResult_t tuttiAllGatherCompressed(const void* sendbuff, void* recvbuff, size_t sendcount,
                                       tuttiDataType_t datatype,
                                       const tuttiCompression_t* compression,
                                       tuttiCompressState_t state, tuttiComm_t comm,
                                       tuttiStream_t stream) {
  return runCall("tuttiAllGatherCompressed", comm, compression,
                 makeCall(CompressedKind::kAllGather, sendbuff, recvbuff, sendcount, datatype,
                          tuttiSum, state, stream));
}

}  // extern "C"
