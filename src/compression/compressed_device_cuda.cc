// Compressed collectives on device buffers (CUDA builds): the algorithm of compressed_host.cc
// as stream-ordered steps on the caller's stream: encode kernel, device AllToAll of the encoded
// segments, decode-and-sum kernel, encode kernel of the reduced shard, device AllGather, decode
// kernel. The exchanges are ordinary device collectives on uint8 buffers (submitCall), so they
// take whatever path device collectives take (direct kernels or the host-staged path).
//
// Workspaces live per (communicator, stream) and only grow, stream-ordered (cudaMallocAsync),
// so a thread driving several ranks never waits on the host and graph capture records them.
// Not yet on the device: the inter-node-only mode (calls with the flag compress every
// exchange on a multi-node communicator, and run the exact collective on a single node).
#ifdef TUTTI_HAVE_CUDA
#include <cuda_runtime.h>

#include <algorithm>

#include "algorithms/rank_layout.h"
#include "base/device.h"
#include "base/logging.h"
#include "compression/compressed_call.h"
#include "compression/compression_context.h"
#include "compression/device_memory.h"
#include "compression/shard_split.h"
#include "core/comm.h"
#include "core/group.h"
#include "kernels/codec_launch.h"
#include "kernels/dtype_dispatch.h"

namespace tutti {
namespace {

Result launched(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "launching %s: %s", what, cudaGetErrorString(e));
}

Result exchange(Comm* comm, Collective coll, const void* send, void* recv, size_t bytesPerPeer,
                tuttiStream_t stream) {
  CollCall c;
  c.collective = coll;
  c.sendbuff = send;
  c.recvbuff = recv;
  c.count = bytesPerPeer;
  c.dtype = tuttiUint8;
  c.stream = stream;
  c.onDevice = true;
  TUTTI_CHECK(submitCall(comm, std::move(c)), "%s of encoded segments", collectiveName(coll));
  return tuttiSuccess;
}

size_t maxBytes(const codec::CodecSpec& spec, const codec::SegmentRule& rule, int parts) {
  size_t m = 0;
  for (int p = 0; p < parts; ++p)
    m = std::max(m, codec::segmentLayout(spec, rule.span(p).len).bytes);
  return m;
}

size_t maxLen(const codec::SegmentRule& rule, int parts) {
  size_t m = 0;
  for (int p = 0; p < parts; ++p) m = std::max(m, rule.span(p).len);
  return m;
}

Result workspace(Comm* comm, tuttiStream_t stream, size_t bytes, size_t floats,
                 DeviceWorkspace** out) {
  auto& slot = compressionContext(comm).device[stream];
  if (!slot) {
    slot = std::make_unique<DeviceWorkspace>();
    slot->device = comm->config.device;
  }
  TUTTI_TRY(slot->reserve(bytes, floats, stream));
  *out = slot.get();
  return tuttiSuccess;
}

// Encodes segments [first, first + n) of `rule` from `input` into out (zeroed first).
Result encode(const CompressedCall& c, const void* input, tuttiDataType_t dtype, float* residual,
              const codec::SegmentRule& rule, int first, int n, uint8_t* out, size_t segBytes,
              cudaStream_t s) {
  TUTTI_TRY(launched(cudaMemsetAsync(out, 0, n * segBytes, s), "zeroing encoded segments"));
  EncodeArgs a{};
  a.input = input;
  a.dtype = dtype;
  a.residual = residual;
  a.rule = rule;
  a.nseg = n;
  a.firstSeg = first;
  a.spec = c.spec;
  a.out = out;
  a.segBytes = segBytes;
  return launched(launchEncode(a, s), "encode kernel");
}

Result decodeOut(const CompressedCall& c, const uint8_t* in, size_t segBytes, int nseg,
                 const codec::SegmentRule& rule, cudaStream_t s) {
  DecodeOutArgs d{};
  d.in = in;
  d.segBytes = segBytes;
  d.nseg = nseg;
  d.rule = rule;
  d.maxLen = maxLen(rule, nseg);
  d.spec = c.spec;
  d.out = c.recvbuff;
  d.dtype = c.dtype;
  return launched(launchDecodeOut(d, s), "decode kernel");
}

Result runExactOnDevice(Comm* comm, const CompressedCall& c) {
  CollCall call;
  call.collective =
      c.kind == CompressedKind::kAllReduce ? Collective::kAllReduce : Collective::kReduceScatter;
  call.sendbuff = c.sendbuff;
  call.recvbuff = c.recvbuff;
  call.count = c.count;
  call.dtype = c.dtype;
  call.op = c.op;
  call.stream = c.stream;
  call.onDevice = true;
  return submitCall(comm, std::move(call));
}

}  // namespace

Result runCompressedDevice(Comm* comm, const CompressedCall& c) {
  TUTTI_TRY(gpuSetDevice(comm->config.device));
  const int P = comm->nranks(), me = comm->rank();
  cudaStream_t s = static_cast<cudaStream_t>(c.stream);
  if (c.interNodeOnly && c.kind != CompressedKind::kAllGather && comm->topology.layout &&
      comm->topology.layout->nnodes == 1)
    return runExactOnDevice(comm, c);
  float* res = c.state ? c.state->residual : nullptr;

  if (c.kind == CompressedKind::kAllGather) {
    const codec::SegmentRule own = uniformRule(c.count);
    const size_t S = codec::segmentLayout(c.spec, c.count).bytes;
    DeviceWorkspace* ws = nullptr;
    TUTTI_TRY(workspace(comm, c.stream, P * S, 0, &ws));
    uint8_t* gather = ws->bytes;
    TUTTI_TRY(encode(c, c.sendbuff, c.dtype, res, own, 0, 1, gather + me * S, S, s));
    TUTTI_TRY(exchange(comm, Collective::kAllGather, gather + me * S, gather, S, c.stream));
    return decodeOut(c, gather, S, P, own, s);
  }

  const bool allReduce = c.kind == CompressedKind::kAllReduce;
  const codec::SegmentRule rule =
      allReduce ? blockAlignedRule(c.count, P, c.spec.block) : uniformRule(c.count);
  const size_t S = maxBytes(c.spec, rule, P);
  const size_t myLen = rule.span(me).len;
  DeviceWorkspace* ws = nullptr;
  TUTTI_TRY(workspace(comm, c.stream, 3 * P * S, 2 * std::max<size_t>(myLen, 1), &ws));
  uint8_t* send = ws->bytes;
  uint8_t* recv = send + P * S;
  uint8_t* gather = recv + P * S;
  float* acc = ws->floats;
  float* scratch = acc + std::max<size_t>(myLen, 1);

  // This rank's contribution, one segment per owner, then the all-to-all.
  TUTTI_TRY(encode(c, c.sendbuff, c.dtype, res, rule, 0, P, send, S, s));
  TUTTI_TRY(exchange(comm, Collective::kAllToAll, send, recv, S, c.stream));
  DecodeSumArgs d{};
  d.in = recv;
  d.segBytes = S;
  d.nseg = P;
  d.len = myLen;
  d.spec = c.spec;
  d.divisor = c.op == tuttiAvg ? P : 0;
  d.scratch = scratch;
  if (!allReduce) {  // ReduceScatter: the sum is the output
    d.out = c.recvbuff;
    d.dtype = c.dtype;
    return launched(launchDecodeSum(d, s), "decode-sum kernel");
  }
  d.out = acc;
  d.dtype = tuttiFloat32;
  TUTTI_TRY(launched(launchDecodeSum(d, s), "decode-sum kernel"));

  // The reduced shard, plus the owner's residual, encoded once and all-gathered.
  float* shardRes = nullptr;
  if (c.state) {
    TUTTI_TRY(prepareShardResidual(c.state, splitKey(c, P, me, false), myLen, c.stream));
    shardRes = c.state->shardResidual;
  }
  TUTTI_TRY(
      encode(c, acc, tuttiFloat32, shardRes, uniformRule(myLen), 0, 1, gather + me * S, S, s));
  TUTTI_TRY(exchange(comm, Collective::kAllGather, gather + me * S, gather, S, c.stream));
  return decodeOut(c, gather, S, P, rule, s);
}

}  // namespace tutti
#endif  // TUTTI_HAVE_CUDA
