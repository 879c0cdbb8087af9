// How the proxy executor stages a device-buffer call through pinned host memory: the call is cut
// into chunks that fit one staging slot; each chunk is copied in (device to the slot's send
// area), runs as ordinary host calls on the CPU executor, and is copied out (the slot's recv
// area to device). Every rank cuts a call the same way from the call alone, so the host calls
// of chunk k pair up across ranks.
#pragma once

#include <cstddef>
#include <vector>

#include "core/coll_call.h"
#include "proxy/stream_ops.h"

namespace tutti {

// Rows of device memory to or from a staging area (one row for contiguous data; `height` rows
// for the blocks of AllGather, ReduceScatter and AllToAll).
struct StagedCopy {
  char* device;  // first row in the user's buffer
  size_t devicePitch;
  size_t hostOffset;  // into the slot's send area (copies in) or recv area (copies out)
  size_t hostPitch;
  size_t width;
  size_t height;
};

// One host call of a chunk, with its buffers as offsets into the slot it runs in.
struct StagedCall {
  CollCall call;  // sendbuff / recvbuff are set from the offsets at run time
  size_t sendOffset = 0, recvOffset = 0;
  bool hasSend = false, hasRecv = false;  // a Broadcast without input runs in place
};

struct ProxyChunk {
  std::vector<StagedCopy> in, out;
  std::vector<StagedCall> calls;
};

// One call (or one run of sends and receives) of a group, as the proxy runs it.
struct ProxyOp {
  StreamHandle stream = nullptr;
  std::vector<StreamHandle> joined;  // other streams of a run of sends and receives
  Collective collective = Collective::kAllReduce;
  size_t bytes = 0;  // as the tuner counts them, for the log
  std::vector<ProxyChunk> chunks;
  // A rank's messages to itself: device-to-device copies on the stream, no staging.
  std::vector<std::pair<char*, const char*>> selfCopies;
  std::vector<size_t> selfBytes;
};

// Cuts one communicator's device calls of a group into ops. `slotBytes` is one staging
// area's size; every rank must use the same value.
Result planProxyOps(const std::vector<CollCall>& calls, int rank, int nranks, size_t slotBytes,
                    std::vector<ProxyOp>* ops);

// Bytes of each point-to-point piece: slotBytes shared by max(nranks, 8) messages per
// direction and chunk, 16-byte aligned (the same on every rank).
size_t proxyPieceBytes(size_t slotBytes, int nranks);

}  // namespace tutti
