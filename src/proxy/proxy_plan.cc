// Chunking of device calls for the proxy executor.
#include "proxy/proxy_plan.h"

#include <algorithm>

#include "cpu/p2p_fusion.h"
#include "kernels/dtype_dispatch.h"

namespace tutti {
namespace {

char* dev(const void* p) { return const_cast<char*>(static_cast<const char*>(p)); }

StagedCopy rows(const void* device, size_t devicePitch, size_t hostOffset, size_t hostPitch,
                size_t width, size_t height) {
  return StagedCopy{dev(device), devicePitch, hostOffset, hostPitch, width, height};
}

// A collective cut along its element range: chunk i covers elements [i c, (i+1) c) of each
// block (one block for AllReduce, Broadcast and Reduce; n per-rank blocks otherwise).
void planCollective(const CollCall& c, int rank, int n, size_t slotBytes, ProxyOp* op) {
  const size_t es = dtypeSize(c.dtype);
  const bool blocksIn =
      c.collective == Collective::kReduceScatter || c.collective == Collective::kAllToAll;
  const bool blocksOut =
      c.collective == Collective::kAllGather || c.collective == Collective::kAllToAll;
  const size_t perChunk = std::max<size_t>(1, slotBytes / es / (blocksIn || blocksOut ? n : 1));
  const bool readsInput = !(c.collective == Collective::kBroadcast && rank != c.root);
  const bool writesOutput = !(c.collective == Collective::kReduce && rank != c.root);
  const size_t pitch = c.count * es;  // distance between per-rank blocks
  for (size_t first = 0; first < c.count; first += perChunk) {
    const size_t len = std::min(perChunk, c.count - first), w = len * es;
    ProxyChunk chunk;
    StagedCall sc;
    sc.call = c;
    sc.call.count = len;
    sc.call.onDevice = false;
    sc.hasSend = readsInput;  // a non-root Broadcast runs in place on its recv area
    sc.hasRecv = writesOutput;
    sc.recvOffset = 0;
    if (readsInput)
      chunk.in.push_back(
          blocksIn ? rows(static_cast<const char*>(c.sendbuff) + first * es, pitch, 0, w, w, n)
                   : rows(static_cast<const char*>(c.sendbuff) + first * es, w, 0, w, w, 1));
    if (writesOutput)
      chunk.out.push_back(blocksOut
                              ? rows(static_cast<char*>(c.recvbuff) + first * es, pitch, 0, w, w, n)
                              : rows(static_cast<char*>(c.recvbuff) + first * es, w, 0, w, w, 1));
    chunk.calls.push_back(sc);
    op->chunks.push_back(std::move(chunk));
  }
}

struct Message {
  bool send;
  int peer;
  char* buf;
  size_t bytes;
};

// Point-to-point messages cut into pieces of `piece` bytes: chunk k carries piece k of every
// message that has one, each message in its own sub-area of the slot. A message of m bytes
// has the same pieces on both of its ranks, so chunk k's sends and receives pair up.
Result planMessages(const std::vector<Message>& msgs, int rank, size_t slotBytes, size_t piece,
                    ProxyOp* op) {
  std::vector<const Message*> selfSend, selfRecv, remote;
  for (const Message& m : msgs) {
    if (m.bytes == 0) continue;
    if (m.peer == rank)
      (m.send ? selfSend : selfRecv).push_back(&m);
    else
      remote.push_back(&m);
  }
  if (selfSend.size() != selfRecv.size())
    return setError(tuttiInvalidUsage, "%zu sends to self but %zu receives from self in one group",
                    selfSend.size(), selfRecv.size());
  for (size_t k = 0; k < selfSend.size(); ++k) {
    if (selfSend[k]->bytes != selfRecv[k]->bytes)
      return setError(tuttiInvalidArgument,
                      "send to self of %zu bytes matched a receive of %zu bytes",
                      selfSend[k]->bytes, selfRecv[k]->bytes);
    op->selfCopies.push_back({selfRecv[k]->buf, selfSend[k]->buf});
    op->selfBytes.push_back(selfSend[k]->bytes);
  }
  const size_t areas = slotBytes / piece;
  size_t sends = 0, recvs = 0, pieces = 0;
  for (const Message* m : remote) {
    (m->send ? sends : recvs)++;
    pieces = std::max(pieces, (m->bytes + piece - 1) / piece);
  }
  if (sends > areas || recvs > areas)
    return setError(tuttiNotSupported,
                    "%zu sends and %zu receives in one group: the proxy stages at most %zu of "
                    "each at once (raise TUTTI_PROXY_CHUNK_BYTES)",
                    sends, recvs, areas);
  for (size_t k = 0; k < pieces; ++k) {
    ProxyChunk chunk;
    size_t s = 0, r = 0;
    for (const Message* m : remote) {
      const size_t area = (m->send ? s++ : r++) * piece;
      if (m->bytes <= k * piece) continue;
      const size_t len = std::min(piece, m->bytes - k * piece);
      StagedCall sc;
      sc.call.collective = m->send ? Collective::kSend : Collective::kRecv;
      sc.call.dtype = tuttiUint8;
      sc.call.count = len;
      sc.call.peer = m->peer;
      if (m->send) {
        sc.hasSend = true;
        sc.sendOffset = area;
        chunk.in.push_back(rows(m->buf + k * piece, len, area, len, len, 1));
      } else {
        sc.hasRecv = true;
        sc.recvOffset = area;
        chunk.out.push_back(rows(m->buf + k * piece, len, area, len, len, 1));
      }
      chunk.calls.push_back(sc);
    }
    op->chunks.push_back(std::move(chunk));
  }
  return tuttiSuccess;
}

}  // namespace

size_t proxyPieceBytes(size_t slotBytes, int nranks) {
  const size_t piece = slotBytes / static_cast<size_t>(std::max(nranks, 8)) & ~size_t(15);
  return std::max<size_t>(piece, 16);
}

Result planProxyOps(const std::vector<CollCall>& calls, int rank, int nranks, size_t slotBytes,
                    std::vector<ProxyOp>* ops) {
  const size_t piece = proxyPieceBytes(slotBytes, nranks);
  for (size_t i = 0; i < calls.size();) {
    const CollCall& c = calls[i];
    ProxyOp op;
    op.stream = static_cast<StreamHandle>(c.stream);
    op.collective = c.collective;
    const size_t es = dtypeSize(c.dtype);
    if (isP2p(c) || c.collective == Collective::kAllToAllv) {
      std::vector<Message> msgs;
      size_t j = i;
      for (; j < calls.size(); ++j) {
        const CollCall& d = calls[j];
        if (j > i && !isP2p(d)) break;
        if (d.stream != c.stream) op.joined.push_back(static_cast<StreamHandle>(d.stream));
        const size_t des = dtypeSize(d.dtype);
        if (d.collective == Collective::kAllToAllv) {
          for (int p = 0; p < nranks; ++p) {
            msgs.push_back(
                {true, p, dev(d.sendbuff) + d.sendDispls[p] * des, d.sendCounts[p] * des});
            msgs.push_back({false, p, static_cast<char*>(d.recvbuff) + d.recvDispls[p] * des,
                            d.recvCounts[p] * des});
          }
          ++j;
          break;
        }
        msgs.push_back(
            {d.collective == Collective::kSend, d.peer,
             d.collective == Collective::kSend ? dev(d.sendbuff) : static_cast<char*>(d.recvbuff),
             d.count * des});
      }
      for (const Message& m : msgs) op.bytes += m.send ? m.bytes : 0;
      TUTTI_TRY(planMessages(msgs, rank, slotBytes, piece, &op));
      i = j;
    } else {
      const bool perRank = c.collective == Collective::kAllGather ||
                           c.collective == Collective::kReduceScatter ||
                           c.collective == Collective::kAllToAll;
      op.bytes = c.count * es * (perRank ? nranks : 1);
      planCollective(c, rank, nranks, slotBytes, &op);
      ++i;
    }
    ops->push_back(std::move(op));
  }
  return tuttiSuccess;
}

}  // namespace tutti
