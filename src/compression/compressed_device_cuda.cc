// Compressed collectives on device buffers (CUDA builds): the algorithm of compressed_host.cc
// as stream-ordered steps on the caller's stream: encode kernel, device AllToAll of the encoded
// segments, decode-and-sum kernel, encode kernel of the reduced shard, device AllGather, decode
// kernel. The exchanges are ordinary device collectives on uint8 buffers (submitCall), so they
// take whatever path device collectives take (direct kernels or the host-staged path).
//
// The inter-node-only mode (the flag on N > 1 nodes of L > 1 ranks) runs phases A-D of
// compressed_host.cc with the same shards, the same sums in the same order and the same
// residuals, so its output has the host path's bits: the exchanges inside a node (A: exact
// inputs, D: exact results) go to the node part of the hierarchical executor (peer-mapped
// kernels), those across nodes (B, C: encoded segments) to the rail part (its proxy); each is an
// AllToAllv of bytes whose displacements put every member's bytes where the host path's order
// wants them. Without those parts (TUTTI_GPU_HIERARCHY=0, nodes whose ranks cannot map each
// other, rails that are not the layout's columns) the same AllToAllv runs on the whole
// communicator.
//
// Workspaces live per (communicator, stream) and only grow, stream-ordered (cudaMallocAsync),
// so a thread driving several ranks never waits on the host and graph capture records them.
#ifdef TUTTI_HAVE_CUDA
#include <cuda_runtime.h>

#include <algorithm>

#include "algorithms/rank_layout.h"
#include "base/device.h"
#include "base/logging.h"
#include "compression/compressed_call.h"
#include "compression/compression_context.h"
#include "compression/device_memory.h"
#include "compression/inter_node_split.h"
#include "compression/shard_split.h"
#include "core/comm.h"
#include "core/executor.h"
#include "core/group.h"
#include "kernels/codec_launch.h"
#include "kernels/dtype_dispatch.h"
#include "kernels/node_sum.h"

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
                 DeviceWorkspace** out, size_t raw = 0) {
  auto& slot = compressionContext(comm).device[stream];
  if (!slot) {
    slot = std::make_unique<DeviceWorkspace>();
    slot->device = comm->config.device;
  }
  TUTTI_TRY(slot->reserve(bytes, floats, stream, raw));
  *out = slot.get();
  return tuttiSuccess;
}

// Encodes segments [first, first + n) of `rule` from `input` into out, leaving the bytes past
// each segment's layout alone.
Result encodeSegments(const CompressedCall& c, const void* input, tuttiDataType_t dtype,
                      float* residual, const codec::SegmentRule& rule, int first, int n,
                      uint8_t* out, size_t segBytes, cudaStream_t s) {
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

// The same into segments zeroed first.
Result encode(const CompressedCall& c, const void* input, tuttiDataType_t dtype, float* residual,
              const codec::SegmentRule& rule, int first, int n, uint8_t* out, size_t segBytes,
              cudaStream_t s) {
  TUTTI_TRY(launched(cudaMemsetAsync(out, 0, n * segBytes, s), "zeroing encoded segments"));
  return encodeSegments(c, input, dtype, residual, rule, first, n, out, segBytes, s);
}

// Segment j of `in` decoded into `out` (the call's dtype) at rule.span(j), j < nseg.
Result decodeOut(const CompressedCall& c, const uint8_t* in, size_t segBytes, int nseg,
                 const codec::SegmentRule& rule, void* out, cudaStream_t s) {
  DecodeOutArgs d{};
  d.in = in;
  d.segBytes = segBytes;
  d.nseg = nseg;
  d.rule = rule;
  d.maxLen = maxLen(rule, nseg);
  d.spec = c.spec;
  d.out = out;
  d.dtype = c.dtype;
  return launched(launchDecodeOut(d, s), "decode kernel");
}

// Decodes `nseg` segments of `in` and sums them in order into this rank's shard of `len`
// elements: the output itself for ReduceScatter, `acc` (fp32, encoded again) for AllReduce.
Result decodeSumShard(const CompressedCall& c, const uint8_t* in, size_t segBytes, int nseg,
                      size_t len, int nranks, float* scratch, float* acc, cudaStream_t s) {
  const bool toOutput = c.kind != CompressedKind::kAllReduce;
  DecodeSumArgs d{};
  d.in = in;
  d.segBytes = segBytes;
  d.nseg = nseg;
  d.len = len;
  d.spec = c.spec;
  d.divisor = c.op == tuttiAvg ? nranks : 0;
  d.scratch = scratch;
  d.out = toOutput ? c.recvbuff : acc;
  d.dtype = toOutput ? c.dtype : tuttiFloat32;
  return launched(launchDecodeSum(d, s), "decode-sum kernel");
}

// The reduced shard `acc` plus its owner's residual (the state's split `key`), encoded once
// into `out`.
Result encodeReducedShard(const CompressedCall& c, uint64_t key, float* acc, size_t len,
                          uint8_t* out, size_t segBytes, cudaStream_t s) {
  float* shardRes = nullptr;
  if (c.state) {
    TUTTI_TRY(prepareShardResidual(c.state, key, len, c.stream));
    shardRes = c.state->shardResidual;
  }
  return encode(c, acc, tuttiFloat32, shardRes, uniformRule(len), 0, 1, out, segBytes, s);
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

// ---- Inter-node-only: exact inside a node, encoded across nodes -------------------------

// The ranks one phase exchanges among, in the host path's order (a node's ranks by local index,
// or a column's ranks by node), and where the exchange runs: `comm` is a part of the
// hierarchical executor (`part`) or the whole communicator, rankOf[i] member i's rank in it.
struct Members {
  Comm* comm = nullptr;
  bool part = false;
  std::vector<int> rankOf;
};

// This rank's node and column as Members. The parts split the communicator by node and by
// position in the node, ordering members by rank (hierarchical_executor.cc), so a rank's node
// part rank is its place among its node's ranks in rank order, and its rail is the ranks of that
// place on every node, in rank order. The layout orders a node's ranks along its ring instead:
// where that makes a column of the grid differ from a rail, the inter-node phases run on the
// whole communicator (the same decision on every rank: it reads only the layout).
Result membersOf(Comm* comm, const InterNodeGrid& g, Members* node, Members* column) {
  const int P = comm->nranks(), N = g.nodes, L = g.local, me = comm->rank();
  std::vector<int> place(P, 0), railRank(P, 0), seen(L, 0);
  for (int k = 0; k < N; ++k) {
    std::vector<int> ranks = g.rankAt[k];
    std::sort(ranks.begin(), ranks.end());
    for (int i = 0; i < L; ++i) place[ranks[i]] = i;
  }
  for (int r = 0; r < P; ++r) railRank[r] = seen[place[r]]++;
  const Executor* device = comm->executors.device.get();
  Comm* nodePart = device ? device->nodePart() : nullptr;
  Comm* railPart = device ? device->railPart() : nullptr;
  bool columnsAreRails = railPart != nullptr;
  for (int l = 0; l < L && columnsAreRails; ++l)
    for (int k = 0; k < N; ++k)
      columnsAreRails = columnsAreRails && place[g.rankAt[k][l]] == place[g.rankAt[0][l]];
  if ((nodePart && (nodePart->nranks() != L || nodePart->rank() != place[me])) ||
      (columnsAreRails && (railPart->nranks() != N || railPart->rank() != railRank[me])))
    return setError(tuttiInternalError,
                    "rank %d: the node and rail parts do not match the node layout (%d nodes of "
                    "%d ranks)",
                    me, N, L);
  node->comm = nodePart ? nodePart : comm;
  node->part = nodePart != nullptr;
  node->rankOf.resize(L);
  for (int lp = 0; lp < L; ++lp) {
    const int r = g.rankAt[g.node][lp];
    node->rankOf[lp] = nodePart ? place[r] : r;
  }
  column->comm = columnsAreRails ? railPart : comm;
  column->part = columnsAreRails;
  column->rankOf.resize(N);
  for (int k = 0; k < N; ++k) {
    const int r = g.rankAt[k][g.index];
    column->rankOf[k] = columnsAreRails ? railRank[r] : r;
  }
  return tuttiSuccess;
}

// An AllToAllv of bytes among `m`: member i gets sendCounts[i] bytes from send + sendDispls[i],
// and its bytes land at recv + recvDispls[i]; nothing goes to or comes from other ranks. A part
// numbers its calls as the hierarchical executor's stages do.
Result exchangeAmong(const Members& m, const void* send, const std::vector<size_t>& sendCounts,
                     const std::vector<size_t>& sendDispls, void* recv,
                     const std::vector<size_t>& recvCounts, const std::vector<size_t>& recvDispls,
                     tuttiStream_t stream, const char* what) {
  const int n = m.comm->nranks();
  CollCall c;
  c.collective = Collective::kAllToAllv;
  c.sendbuff = send;
  c.recvbuff = recv;
  c.dtype = tuttiUint8;
  c.sendCounts.assign(n, 0);
  c.sendDispls.assign(n, 0);
  c.recvCounts.assign(n, 0);
  c.recvDispls.assign(n, 0);
  for (size_t i = 0; i < m.rankOf.size(); ++i) {
    const int r = m.rankOf[i];
    c.sendCounts[r] = sendCounts[i];
    c.sendDispls[r] = sendDispls[i];
    c.recvCounts[r] = recvCounts[i];
    c.recvDispls[r] = recvDispls[i];
  }
  c.stream = stream;
  c.onDevice = true;
  if (!m.part) {
    TUTTI_CHECK(submitCall(m.comm, std::move(c)), "%s", what);
    return tuttiSuccess;
  }
  c.seq = m.comm->callSeq++;
  TUTTI_CHECK(m.comm->executors.device->launchOne(m.comm, std::move(c)), "%s (%s part)", what,
              m.comm->config.name.c_str());
  return tuttiSuccess;
}

// ReduceScatter's phase A input: for every local index l', the blocks of column l' (rank
// rankAt[k][l']'s block of B bytes, k in node order) at dst + (l' * N + k) * B. One 2D copy per
// column whose ranks are evenly spaced (nodes of consecutive ranks), else a copy per block.
Result packColumns(const InterNodeGrid& g, int device, const char* src, size_t B, char* dst,
                   cudaStream_t s) {
  const int N = g.nodes;
  int maxPitch = 0;
  if (cudaDeviceGetAttribute(&maxPitch, cudaDevAttrMaxPitch, device) != cudaSuccess) {
    cudaGetLastError();
    maxPitch = 0;
  }
  for (int l = 0; l < g.local; ++l) {
    char* out = dst + static_cast<size_t>(l) * N * B;
    const int first = g.rankAt[0][l], step = g.rankAt[1][l] - first;
    bool even = step > 0 && static_cast<size_t>(step) * B <= static_cast<size_t>(maxPitch);
    for (int k = 2; k < N && even; ++k) even = g.rankAt[k][l] - g.rankAt[k - 1][l] == step;
    if (even) {
      TUTTI_TRY(launched(
          cudaMemcpy2DAsync(out, B, src + first * B, step * B, B, N, cudaMemcpyDeviceToDevice, s),
          "packing a column of the input"));
      continue;
    }
    for (int k = 0; k < N; ++k)
      TUTTI_TRY(launched(
          cudaMemcpyAsync(out + k * B, src + g.rankAt[k][l] * B, B, cudaMemcpyDeviceToDevice, s),
          "packing a block of the input"));
  }
  return tuttiSuccess;
}

size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// Phases A-D of compressed_host.cc (hierReduceToOwner, hierGatherFromOwners) on device buffers.
Result hierarchicalOnDevice(Comm* comm, const CompressedCall& c, const InterNodeGrid& g) {
  const int P = comm->nranks(), me = comm->rank(), N = g.nodes, L = g.local, l = g.index;
  const bool allReduce = c.kind == CompressedKind::kAllReduce;
  const size_t es = dtypeSize(c.dtype);
  cudaStream_t s = static_cast<cudaStream_t>(c.stream);
  Members node, column;
  TUTTI_TRY(membersOf(comm, g, &node, &column));
  const std::vector<Shard> shards =
      allReduce ? hierAllReduceShards(c, g, P) : reduceScatterShards(c.count, P);
  std::vector<size_t> colLen(L);
  for (int lp = 0; lp < L; ++lp) colLen[lp] = columnLen(g, shards, lp);
  const size_t mineLen = colLen[l], myLen = shards[me].len;
  size_t S = 0;
  for (const Shard& sh : shards) S = std::max(S, codec::segmentLayout(c.spec, sh.len).bytes);

  // Workspaces: encoded segments (send | recv | gathered | this rank's), fp32 (node sum | reduced
  // shard | top-k sums), exact values (ReduceScatter's packed input | the node's inputs).
  const size_t packBytes = allReduce ? 0 : roundUp(P * c.count * es, 256);
  const size_t sumCap = roundUp(std::max<size_t>(mineLen, 1), 64);
  const size_t shardCap = roundUp(std::max<size_t>(myLen, 1), 64);
  DeviceWorkspace* ws = nullptr;
  TUTTI_TRY(workspace(comm, c.stream, (3 * N + 1) * S, sumCap + 2 * shardCap, &ws,
                      packBytes + L * mineLen * es));
  uint8_t* send = ws->bytes;
  uint8_t* recv = send + N * S;
  uint8_t* gather = recv + N * S;
  uint8_t* mine = gather + N * S;
  float* nodeSum = ws->floats;
  float* acc = nodeSum + sumCap;
  float* scratch = acc + shardCap;
  char* packed = reinterpret_cast<char*>(ws->raw);
  char* inputs = packed + packBytes;

  // A: every local peer l' gets this rank's input of column l' (AllReduce: contiguous in the
  // input; ReduceScatter: packed first); column l of every local peer lands at l' * mineLen.
  std::vector<size_t> sc(L), sd(L), rc(L), rd(L);
  const char* in = static_cast<const char*>(c.sendbuff);
  if (!allReduce) {
    TUTTI_TRY(packColumns(g, comm->config.device, in, c.count * es, packed, s));
    in = packed;
  }
  for (int lp = 0; lp < L; ++lp) {
    sd[lp] = allReduce ? shards[g.rankAt[0][lp]].offset * es
                       : static_cast<size_t>(lp) * N * c.count * es;
    sc[lp] = colLen[lp] * es;
    rd[lp] = static_cast<size_t>(lp) * mineLen * es;
    rc[lp] = mineLen * es;
  }
  TUTTI_TRY(exchangeAmong(node, in, sc, sd, inputs, rc, rd, c.stream,
                          "intra-node exchange of exact inputs"));
  NodeSumArgs ns{inputs, c.dtype, L, mineLen, nodeSum};
  TUTTI_TRY(launched(launchNodeSum(ns, s), "node sum kernel"));

  // B: the node sum of each shard of column l, plus this rank's residual at the shard's
  // positions, encoded for its owner on node k'; the owner sums the N segments in node order.
  float* res = c.state ? c.state->residual : nullptr;
  TUTTI_TRY(launched(cudaMemsetAsync(send, 0, N * S, s), "zeroing encoded segments"));
  size_t at = 0;
  for (int k = 0; k < N; ++k) {
    const Shard& sh = shards[g.rankAt[k][l]];
    TUTTI_TRY(encodeSegments(c, nodeSum + at, tuttiFloat32, res ? res + sh.offset : nullptr,
                             uniformRule(sh.len), 0, 1, send + k * S, S, s));
    at += sh.len;
  }
  std::vector<size_t> segCounts(N, S), segDispls(N);
  for (int k = 0; k < N; ++k) segDispls[k] = k * S;
  TUTTI_TRY(exchangeAmong(column, send, segCounts, segDispls, recv, segCounts, segDispls, c.stream,
                          "inter-node all-to-all of encoded segments"));
  TUTTI_TRY(decodeSumShard(c, recv, S, N, myLen, P, scratch, acc, s));
  if (!allReduce) return tuttiSuccess;  // ReduceScatter: the sum is the output

  // C: the reduced shard, plus the owner's residual, encoded once and sent to every rank of
  // column l; each decodes the N shards of the column into its output.
  TUTTI_TRY(encodeReducedShard(c, splitKey(c, P, me, true), acc, myLen, mine, S, s));
  std::vector<size_t> fromMine(N, 0);
  TUTTI_TRY(exchangeAmong(column, mine, segCounts, fromMine, gather, segCounts, segDispls, c.stream,
                          "inter-node exchange of encoded reduced shards"));
  char* out = static_cast<char*>(c.recvbuff);
  for (int k = 0; k < N; ++k) {
    const Shard& sh = shards[g.rankAt[k][l]];
    TUTTI_TRY(decodeOut(c, gather + k * S, S, 1, uniformRule(sh.len), out + sh.offset * es, s));
  }

  // D: column l of the output (contiguous) to every local peer, exact; theirs into place. The
  // regions sent and received are disjoint parts of the output.
  const size_t colOff = shards[g.rankAt[0][l]].offset;
  for (int lp = 0; lp < L; ++lp) {
    sd[lp] = 0;
    sc[lp] = lp == l ? 0 : mineLen * es;
    rd[lp] = shards[g.rankAt[0][lp]].offset * es;
    rc[lp] = lp == l ? 0 : colLen[lp] * es;
  }
  return exchangeAmong(node, out + colOff * es, sc, sd, out, rc, rd, c.stream,
                       "intra-node all-gather of exact results");
}

}  // namespace

Result runCompressedDevice(Comm* comm, const CompressedCall& c) {
  TUTTI_TRY(gpuSetDevice(comm->config.device));
  const int P = comm->nranks(), me = comm->rank();
  cudaStream_t s = static_cast<cudaStream_t>(c.stream);
  InterNodeGrid g;
  const CompressedPath path = compressedPath(comm, c, &g);
  if (path == CompressedPath::kExact) return runExactOnDevice(comm, c);
  if (path == CompressedPath::kHierarchical) return hierarchicalOnDevice(comm, c, g);
  float* res = c.state ? c.state->residual : nullptr;

  if (c.kind == CompressedKind::kAllGather) {
    const codec::SegmentRule own = uniformRule(c.count);
    const size_t S = codec::segmentLayout(c.spec, c.count).bytes;
    DeviceWorkspace* ws = nullptr;
    TUTTI_TRY(workspace(comm, c.stream, P * S, 0, &ws));
    uint8_t* gather = ws->bytes;
    TUTTI_TRY(encode(c, c.sendbuff, c.dtype, res, own, 0, 1, gather + me * S, S, s));
    TUTTI_TRY(exchange(comm, Collective::kAllGather, gather + me * S, gather, S, c.stream));
    return decodeOut(c, gather, S, P, own, c.recvbuff, s);
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
  TUTTI_TRY(decodeSumShard(c, recv, S, P, myLen, P, scratch, acc, s));
  if (!allReduce) return tuttiSuccess;  // ReduceScatter: the sum is the output

  // The reduced shard, plus the owner's residual, encoded once and all-gathered.
  TUTTI_TRY(encodeReducedShard(c, splitKey(c, P, me, false), acc, myLen, gather + me * S, S, s));
  TUTTI_TRY(exchange(comm, Collective::kAllGather, gather + me * S, gather, S, c.stream));
  return decodeOut(c, gather, S, P, rule, c.recvbuff, s);
}

}  // namespace tutti
#endif  // TUTTI_HAVE_CUDA
