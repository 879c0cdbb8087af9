// Compressed AllReduce, ReduceScatter and AllGather on host buffers. Each contribution is
// encoded once and sent to the rank that owns its shard (an all-to-all of encoded segments);
// the owner decodes the segments and sums them in fp32 in rank order, and (AllReduce) encodes
// the reduced shard once more and all-gathers it. Every rank, the owner included, decodes the
// same gathered bytes, so every output is bit-identical. The exchanges are ordinary Tutti
// AllToAll / AllGather / AllToAllv calls on uint8 buffers (submitCall).
//
// With the inter-node-only flag on a multi-node communicator (same ranks per node), the
// exchanges inside a node carry exact values and only the inter-node ones are encoded:
//   A  intra-node all-to-all of raw input: local rank l receives the node's inputs for the
//      shards owned by ranks of local index l on every node, and sums them in fp32;
//   B  inter-node all-to-all of encoded node sums among the ranks of local index l: the shard
//      owner decodes and sums them in node order;
//   C  (AllReduce) inter-node exchange of the encoded reduced shards among local index l;
//   D  (AllReduce) intra-node all-gather of the decoded values, exact.
#include <algorithm>
#include <cstring>

#include "compression/compressed_call.h"
#include "compression/compression_context.h"
#include "compression/host_codec.h"
#include "compression/inter_node_split.h"
#include "compression/shard_split.h"
#include "core/comm.h"
#include "core/group.h"
#include "kernels/codecs/codec_math.h"
#include "kernels/dtype_dispatch.h"

namespace tutti {

uint64_t splitKey(const CompressedCall& c, int nranks, int rank, bool hierarchical) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
  };
  mix(static_cast<uint64_t>(c.kind) + 1);
  mix(c.count);
  mix(static_cast<uint64_t>(c.spec.block));
  mix(static_cast<uint64_t>(nranks));
  mix(static_cast<uint64_t>(rank));
  mix(hierarchical ? 1 : 2);
  mix(static_cast<uint64_t>(c.op) + 7);  // avg's shard residual is in units of the average
  return h | 1;                          // never 0 (0 means "no split yet")
}

namespace {

using codec::addRn;
using codec::CodecSpec;
using codec::segmentLayout;

// ---- Element conversions -------------------------------------------------------------------

// out[i] = float(src[off + i]) (+ res[i]).
void loadFloats(const void* src, tuttiDataType_t dt, size_t off, size_t n, const float* res,
                float* out) {
  auto run = [&](auto load) {
    if (res)
      for (size_t i = 0; i < n; ++i) out[i] = addRn(load(off + i), res[i]);
    else
      for (size_t i = 0; i < n; ++i) out[i] = load(off + i);
  };
  if (dt == tuttiFloat32)
    run([s = static_cast<const float*>(src)](size_t i) { return s[i]; });
  else if (dt == tuttiFloat16)
    run([s = static_cast<const Half*>(src)](size_t i) { return toFloat(s[i]); });
  else
    run([s = static_cast<const BFloat16*>(src)](size_t i) { return toFloat(s[i]); });
}

// acc[i] (+)= float(src[i]): summing raw inputs of one node in fp32.
void accumulateRaw(const void* src, tuttiDataType_t dt, size_t n, float* acc, bool accumulate) {
  if (!accumulate) {
    loadFloats(src, dt, 0, n, nullptr, acc);
    return;
  }
  if (dt == tuttiFloat32) {
    const float* s = static_cast<const float*>(src);
    for (size_t i = 0; i < n; ++i) acc[i] = addRn(acc[i], s[i]);
  } else if (dt == tuttiFloat16) {
    const Half* s = static_cast<const Half*>(src);
    for (size_t i = 0; i < n; ++i) acc[i] = addRn(acc[i], toFloat(s[i]));
  } else {
    const BFloat16* s = static_cast<const BFloat16*>(src);
    for (size_t i = 0; i < n; ++i) acc[i] = addRn(acc[i], toFloat(s[i]));
  }
}

// dst[off + i] = dtype(in[i]), rounded to nearest even.
void storeFloats(const float* in, size_t n, tuttiDataType_t dt, void* dst, size_t off) {
  if (dt == tuttiFloat32) {
    float* d = static_cast<float*>(dst) + off;
    if (d != in) memcpy(d, in, n * sizeof(float));
  } else if (dt == tuttiFloat16) {
    Half* d = static_cast<Half*>(dst) + off;
    for (size_t i = 0; i < n; ++i) d[i] = toHalf(in[i]);
  } else {
    BFloat16* d = static_cast<BFloat16*>(dst) + off;
    for (size_t i = 0; i < n; ++i) d[i] = toBFloat16(in[i]);
  }
}

// res[i] = v[i] - dec[i], or 0 where either is not finite (a NaN must not stay in the state).
void updateResidual(const float* v, const float* dec, size_t n, float* res) {
  for (size_t i = 0; i < n; ++i) {
    const bool finite = codec::isFiniteBits(v[i]) && codec::isFiniteBits(dec[i]);
    res[i] = finite ? codec::subRn(v[i], dec[i]) : 0.0f;
  }
}

// ---- Exchanges (ordinary collectives on bytes) ----------------------------------------------

Result exchange(Comm* comm, Collective coll, const void* send, void* recv, size_t bytesPerPeer) {
  CollCall c;
  c.collective = coll;
  c.sendbuff = send;
  c.recvbuff = recv;
  c.count = bytesPerPeer;
  c.dtype = tuttiUint8;
  c.onDevice = false;
  TUTTI_CHECK(submitCall(comm, std::move(c)), "%s of encoded segments", collectiveName(coll));
  return tuttiSuccess;
}

Result exchangeV(Comm* comm, const void* send, const std::vector<size_t>& sendCounts,
                 const std::vector<size_t>& sendDispls, void* recv,
                 const std::vector<size_t>& recvCounts, const std::vector<size_t>& recvDispls,
                 const char* what) {
  CollCall c;
  c.collective = Collective::kAllToAllv;
  c.sendbuff = send;
  c.recvbuff = recv;
  c.dtype = tuttiUint8;
  c.sendCounts = sendCounts;
  c.sendDispls = sendDispls;
  c.recvCounts = recvCounts;
  c.recvDispls = recvDispls;
  c.onDevice = false;
  TUTTI_CHECK(submitCall(comm, std::move(c)), "%s", what);
  return tuttiSuccess;
}

// A malformed segment from a peer breaks the collective for everyone: fail the communicator
// so that peers waiting on this rank stop at once.
Result decodeFromPeer(Comm* comm, const CodecSpec& spec, const uint8_t* in, size_t n, float* out,
                      bool accumulate, int peer) {
  Result r = hostDecodeSegment(spec, in, n, out, accumulate, peer);
  if (r != tuttiSuccess) comm->fail(r);
  return r;
}

size_t maxSegmentBytes(const CodecSpec& spec, const std::vector<Shard>& shards) {
  size_t s = 0;
  for (const Shard& sh : shards) s = std::max(s, segmentLayout(spec, sh.len).bytes);
  return s;
}

size_t maxShardLen(const std::vector<Shard>& shards) {
  size_t m = 0;
  for (const Shard& sh : shards) m = std::max(m, sh.len);
  return m;
}

// Encodes v[0..n) (this rank's values for one owner) into a segment of segBytes bytes, keeping
// the encoding error in res (when not null).
void encodeInto(CompressionContext& ctx, const CodecSpec& spec, const float* v, size_t n,
                uint8_t* seg, size_t segBytes, float* res) {
  const size_t used = segmentLayout(spec, n).bytes;
  if (n) {
    ctx.decoded.resize(std::max(ctx.decoded.size(), n));
    hostEncodeSegment(spec, v, n, seg, res ? ctx.decoded.data() : nullptr);
    if (res) updateResidual(v, ctx.decoded.data(), n, res);
  }
  memset(seg + used, 0, segBytes - used);
}

// The reduced shard's last steps: avg divides by the rank count, then the owner's error
// feedback (when kept) is added before the second encoding.
void finishShard(const CompressedCall& c, int nranks, float* acc, size_t n) {
  if (c.op == tuttiAvg)
    for (size_t i = 0; i < n; ++i) acc[i] = codec::divRn(acc[i], static_cast<float>(nranks));
}

Result encodeReducedShard(CompressionContext& ctx, const CompressedCall& c, uint64_t key,
                          float* acc, size_t n, uint8_t* seg, size_t segBytes) {
  float* res = nullptr;
  if (c.state) {
    TUTTI_TRY(prepareShardResidual(c.state, key, n, nullptr));
    res = c.state->shardResidual;
    for (size_t i = 0; i < n; ++i) acc[i] = addRn(acc[i], res[i]);
  }
  encodeInto(ctx, c.spec, acc, n, seg, segBytes, res);
  return tuttiSuccess;
}

// Decodes segment `seg` (n elements) into the call's output at element `off`.
Result decodeToOutput(Comm* comm, CompressionContext& ctx, const CompressedCall& c,
                      const uint8_t* seg, size_t n, size_t off, int peer) {
  if (n == 0) return tuttiSuccess;
  if (c.dtype == tuttiFloat32)
    return decodeFromPeer(comm, c.spec, seg, n, static_cast<float*>(c.recvbuff) + off, false, peer);
  ctx.work.resize(std::max(ctx.work.size(), n));
  TUTTI_TRY(decodeFromPeer(comm, c.spec, seg, n, ctx.work.data(), false, peer));
  storeFloats(ctx.work.data(), n, c.dtype, c.recvbuff, off);
  return tuttiSuccess;
}

// ---- Flat: every rank a peer of every other ---------------------------------------------

// float32 input without a residual to add is encoded where it lies (no copy); else null.
const float* directInput(const CompressedCall& c, size_t offset) {
  if (c.dtype != tuttiFloat32 || c.state) return nullptr;
  return static_cast<const float*>(c.sendbuff) + offset;
}

// Encodes this rank's contribution for every owner, exchanges, and sums its own shard's
// segments into acc (fp32, rank order).
Result reduceToOwner(Comm* comm, CompressionContext& ctx, const CompressedCall& c,
                     const std::vector<Shard>& shards, float* acc) {
  const int P = comm->nranks(), me = comm->rank();
  const size_t S = maxSegmentBytes(c.spec, shards);
  ctx.send.resize(P * S);
  ctx.recv.resize(P * S);
  ctx.work.resize(std::max(ctx.work.size(), maxShardLen(shards)));
  float* res = c.state ? c.state->residual : nullptr;
  for (int r = 0; r < P; ++r) {
    const Shard& sh = shards[r];
    const float* v = directInput(c, sh.offset);
    if (!v) {
      loadFloats(c.sendbuff, c.dtype, sh.offset, sh.len, res ? res + sh.offset : nullptr,
                 ctx.work.data());
      v = ctx.work.data();
    }
    encodeInto(ctx, c.spec, v, sh.len, ctx.send.data() + r * S, S, res ? res + sh.offset : nullptr);
  }
  TUTTI_TRY(exchange(comm, Collective::kAllToAll, ctx.send.data(), ctx.recv.data(), S));
  for (int q = 0; q < P; ++q)
    TUTTI_TRY(decodeFromPeer(comm, c.spec, ctx.recv.data() + q * S, shards[me].len, acc, q > 0, q));
  return tuttiSuccess;
}

// Encodes the reduced shard once, all-gathers the segments and decodes every one into the
// output (the owner's own values included, so all ranks agree bit for bit).
Result gatherFromOwners(Comm* comm, CompressionContext& ctx, const CompressedCall& c,
                        const std::vector<Shard>& shards, float* acc, uint64_t key) {
  const int P = comm->nranks(), me = comm->rank();
  const size_t S = maxSegmentBytes(c.spec, shards);
  ctx.gather.resize(P * S);
  uint8_t* mine = ctx.gather.data() + me * S;
  TUTTI_TRY(encodeReducedShard(ctx, c, key, acc, shards[me].len, mine, S));
  TUTTI_TRY(exchange(comm, Collective::kAllGather, mine, ctx.gather.data(), S));
  for (int q = 0; q < P; ++q)
    TUTTI_TRY(decodeToOutput(comm, ctx, c, ctx.gather.data() + q * S, shards[q].len,
                             shards[q].offset, q));
  return tuttiSuccess;
}

Result flatAllReduce(Comm* comm, CompressionContext& ctx, const CompressedCall& c) {
  const int P = comm->nranks(), me = comm->rank();
  const std::vector<Shard> shards = blockAlignedShards(c.count, P, c.spec.block);
  ctx.acc.resize(std::max<size_t>(shards[me].len, 1));
  TUTTI_TRY(reduceToOwner(comm, ctx, c, shards, ctx.acc.data()));
  finishShard(c, P, ctx.acc.data(), shards[me].len);
  return gatherFromOwners(comm, ctx, c, shards, ctx.acc.data(), splitKey(c, P, me, false));
}

Result flatReduceScatter(Comm* comm, CompressionContext& ctx, const CompressedCall& c) {
  const int P = comm->nranks();
  const std::vector<Shard> shards = reduceScatterShards(c.count, P);
  ctx.acc.resize(c.count);
  TUTTI_TRY(reduceToOwner(comm, ctx, c, shards, ctx.acc.data()));
  finishShard(c, P, ctx.acc.data(), c.count);
  storeFloats(ctx.acc.data(), c.count, c.dtype, c.recvbuff, 0);
  return tuttiSuccess;
}

Result flatAllGather(Comm* comm, CompressionContext& ctx, const CompressedCall& c) {
  const int P = comm->nranks(), me = comm->rank();
  const size_t S = segmentLayout(c.spec, c.count).bytes;
  ctx.gather.resize(P * S);
  ctx.work.resize(std::max(ctx.work.size(), c.count));
  float* res = c.state ? c.state->residual : nullptr;
  uint8_t* mine = ctx.gather.data() + me * S;
  const float* v = directInput(c, 0);
  if (!v) {
    loadFloats(c.sendbuff, c.dtype, 0, c.count, res, ctx.work.data());
    v = ctx.work.data();
  }
  encodeInto(ctx, c.spec, v, c.count, mine, S, res);
  TUTTI_TRY(exchange(comm, Collective::kAllGather, mine, ctx.gather.data(), S));
  for (int q = 0; q < P; ++q)
    TUTTI_TRY(decodeToOutput(comm, ctx, c, ctx.gather.data() + q * S, c.count, q * c.count, q));
  return tuttiSuccess;
}

// ---- Hierarchical: exact inside a node, encoded across nodes -------------------------------

// Phase A then B: this rank's shard of the global sum, in fp32, into acc.
Result hierReduceToOwner(Comm* comm, CompressionContext& ctx, const CompressedCall& c,
                         const std::vector<Shard>& shards, const InterNodeGrid& g, float* acc) {
  const int P = comm->nranks(), N = g.nodes, L = g.local, k = g.node, l = g.index;
  const size_t es = dtypeSize(c.dtype);
  // A: pack, for every local peer l', the raw input of the shards of column l'.
  std::vector<size_t> sc(P, 0), sd(P, 0), rc(P, 0), rd(P, 0);
  size_t total = 0;
  for (int lp = 0; lp < L; ++lp) total += columnLen(g, shards, lp);
  const size_t mineLen = columnLen(g, shards, l);
  ctx.stage.resize((total + L * mineLen) * es);
  char* sendRaw = ctx.stage.data();
  char* recvRaw = sendRaw + total * es;
  const char* in = static_cast<const char*>(c.sendbuff);
  size_t pos = 0;
  for (int lp = 0; lp < L; ++lp) {
    const int peer = g.rankAt[k][lp];
    sd[peer] = pos;
    for (int kk = 0; kk < N; ++kk) {
      const Shard& sh = shards[g.rankAt[kk][lp]];
      memcpy(sendRaw + pos, in + sh.offset * es, sh.len * es);
      pos += sh.len * es;
    }
    sc[peer] = pos - sd[peer];
    rc[peer] = mineLen * es;
    rd[peer] = static_cast<size_t>(lp) * mineLen * es;
  }
  TUTTI_TRY(
      exchangeV(comm, sendRaw, sc, sd, recvRaw, rc, rd, "intra-node exchange of exact inputs"));
  // The node's sum of column l, in local rank order.
  ctx.work.resize(std::max(ctx.work.size(), mineLen));
  float* nodeSum = ctx.work.data();
  for (int lp = 0; lp < L; ++lp)
    accumulateRaw(recvRaw + rd[g.rankAt[k][lp]], c.dtype, mineLen, nodeSum, lp > 0);

  // B: encode the node sum of each shard of column l for its owner on node k'.
  const size_t S = maxSegmentBytes(c.spec, shards);
  ctx.send.resize(N * S);
  ctx.recv.resize(N * S);
  std::fill(sc.begin(), sc.end(), 0);
  std::fill(rc.begin(), rc.end(), 0);
  float* res = c.state ? c.state->residual : nullptr;
  size_t at = 0;
  for (int kk = 0; kk < N; ++kk) {
    const int owner = g.rankAt[kk][l];
    const Shard& sh = shards[owner];
    float* v = nodeSum + at;
    if (res)
      for (size_t i = 0; i < sh.len; ++i) v[i] = addRn(v[i], res[sh.offset + i]);
    encodeInto(ctx, c.spec, v, sh.len, ctx.send.data() + kk * S, S,
               res ? res + sh.offset : nullptr);
    at += sh.len;
    sc[owner] = rc[owner] = S;
    sd[owner] = rd[owner] = kk * S;
  }
  TUTTI_TRY(exchangeV(comm, ctx.send.data(), sc, sd, ctx.recv.data(), rc, rd,
                      "inter-node all-to-all of encoded segments"));
  const size_t myLen = shards[comm->rank()].len;
  for (int kk = 0; kk < N; ++kk)
    TUTTI_TRY(decodeFromPeer(comm, c.spec, ctx.recv.data() + kk * S, myLen, acc, kk > 0,
                             g.rankAt[kk][l]));
  return tuttiSuccess;
}

// Phases C and D of AllReduce.
Result hierGatherFromOwners(Comm* comm, CompressionContext& ctx, const CompressedCall& c,
                            const std::vector<Shard>& shards, const InterNodeGrid& g, float* acc,
                            uint64_t key) {
  const int P = comm->nranks(), N = g.nodes, L = g.local, k = g.node, l = g.index;
  const size_t es = dtypeSize(c.dtype);
  // C: the encoded reduced shard to every owner of column l, whose shards we then decode.
  const size_t S = maxSegmentBytes(c.spec, shards);
  ctx.gather.resize((N + 1) * S);
  uint8_t* mine = ctx.gather.data() + N * S;
  TUTTI_TRY(encodeReducedShard(ctx, c, key, acc, shards[comm->rank()].len, mine, S));
  std::vector<size_t> sc(P, 0), sd(P, 0), rc(P, 0), rd(P, 0);
  for (int kk = 0; kk < N; ++kk) {
    const int peer = g.rankAt[kk][l];
    sc[peer] = rc[peer] = S;
    sd[peer] = 0;
    rd[peer] = kk * S;
  }
  TUTTI_TRY(exchangeV(comm, mine, sc, sd, ctx.gather.data(), rc, rd,
                      "inter-node exchange of encoded reduced shards"));
  for (int kk = 0; kk < N; ++kk) {
    const int owner = g.rankAt[kk][l];
    TUTTI_TRY(decodeToOutput(comm, ctx, c, ctx.gather.data() + kk * S, shards[owner].len,
                             shards[owner].offset, owner));
  }
  // D: column l's output values to every local peer, exact; theirs into our output.
  std::fill(sc.begin(), sc.end(), 0);
  std::fill(rc.begin(), rc.end(), 0);
  const size_t mineLen = columnLen(g, shards, l);
  size_t total = 0;
  for (int lp = 0; lp < L; ++lp)
    if (lp != l) total += columnLen(g, shards, lp);
  ctx.stage.resize((mineLen + total) * es);
  char* sendRaw = ctx.stage.data();
  char* recvRaw = sendRaw + mineLen * es;
  char* out = static_cast<char*>(c.recvbuff);
  size_t pos = 0;
  for (int kk = 0; kk < N; ++kk) {
    const Shard& sh = shards[g.rankAt[kk][l]];
    memcpy(sendRaw + pos, out + sh.offset * es, sh.len * es);
    pos += sh.len * es;
  }
  pos = 0;
  for (int lp = 0; lp < L; ++lp) {
    if (lp == l) continue;
    const int peer = g.rankAt[k][lp];
    sc[peer] = mineLen * es;
    rc[peer] = columnLen(g, shards, lp) * es;
    rd[peer] = pos;
    pos += rc[peer];
  }
  TUTTI_TRY(
      exchangeV(comm, sendRaw, sc, sd, recvRaw, rc, rd, "intra-node all-gather of exact results"));
  for (int lp = 0; lp < L; ++lp) {
    if (lp == l) continue;
    const char* from = recvRaw + rd[g.rankAt[k][lp]];
    for (int kk = 0; kk < N; ++kk) {
      const Shard& sh = shards[g.rankAt[kk][lp]];
      memcpy(out + sh.offset * es, from, sh.len * es);
      from += sh.len * es;
    }
  }
  return tuttiSuccess;
}

// Runs the uncompressed collective: with the inter-node-only flag on a single node nothing
// crosses a node.
Result runExact(Comm* comm, const CompressedCall& c) {
  CollCall call;
  call.collective =
      c.kind == CompressedKind::kAllReduce ? Collective::kAllReduce : Collective::kReduceScatter;
  call.sendbuff = c.sendbuff;
  call.recvbuff = c.recvbuff;
  call.count = c.count;
  call.dtype = c.dtype;
  call.op = c.op;
  call.stream = c.stream;
  call.onDevice = c.onDevice;
  return submitCall(comm, std::move(call));
}

}  // namespace

Result runCompressedHost(Comm* comm, const CompressedCall& c) {
  CompressionContext& ctx = compressionContext(comm);
  const int P = comm->nranks(), me = comm->rank();
  InterNodeGrid g;
  const CompressedPath path = compressedPath(comm, c, &g);
  if (path == CompressedPath::kExact) return runExact(comm, c);
  const bool hier = path == CompressedPath::kHierarchical;
  switch (c.kind) {
    case CompressedKind::kAllReduce: {
      if (!hier) return flatAllReduce(comm, ctx, c);
      const std::vector<Shard> shards = hierAllReduceShards(c, g, P);
      ctx.acc.resize(std::max<size_t>(shards[me].len, 1));
      TUTTI_TRY(hierReduceToOwner(comm, ctx, c, shards, g, ctx.acc.data()));
      finishShard(c, P, ctx.acc.data(), shards[me].len);
      return hierGatherFromOwners(comm, ctx, c, shards, g, ctx.acc.data(),
                                  splitKey(c, P, me, true));
    }
    case CompressedKind::kReduceScatter: {
      if (!hier) return flatReduceScatter(comm, ctx, c);
      const std::vector<Shard> shards = reduceScatterShards(c.count, P);
      ctx.acc.resize(c.count);
      TUTTI_TRY(hierReduceToOwner(comm, ctx, c, shards, g, ctx.acc.data()));
      finishShard(c, P, ctx.acc.data(), c.count);
      storeFloats(ctx.acc.data(), c.count, c.dtype, c.recvbuff, 0);
      return tuttiSuccess;
    }
    case CompressedKind::kAllGather: return flatAllGather(comm, ctx, c);
  }
  return setError(tuttiInternalError, "unknown compressed collective");
}

}  // namespace tutti
