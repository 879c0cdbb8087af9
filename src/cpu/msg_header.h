// The CPU executor's message framing: a 32-byte header precedes every message on a peer stream,
// and the receiver checks it before it touches its own buffers. It carries the sender's whole
// call signature, so ranks that called different collectives, dtypes, ops, counts or roots
// fail at the first message with a sentence naming both calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "algorithms/plan.h"
#include "base/error.h"
#include "core/call_signature.h"

namespace tutti {

// Four 64-bit words, so the receiver's check is four compares:
//   word 0: magic, collective, dtype, op, per-pair sequence
//   word 1: payload bytes (padded to the stream alignment on the wire)
//   word 2: per-communicator call sequence, root
//   word 3: the call's count
struct MsgHeader {
  uint8_t magic;
  uint8_t collective;
  uint8_t dtype;
  uint8_t op;
  uint32_t seq;  // per directed pair of ranks
  uint64_t bytes;
  uint32_t callSeq;
  int32_t root;
  uint64_t count;
};
static_assert(sizeof(MsgHeader) == 32, "header fills two stream slots");

constexpr uint8_t kMsgMagic = 0x54;  // "T"
constexpr size_t kMsgHeaderBytes = sizeof(MsgHeader);

// The header of message `seq` (per pair) of `bytes` for the call `sig`.
inline MsgHeader makeMsgHeader(const CallSignature& sig, uint32_t seq, uint64_t bytes) {
  return MsgHeader{kMsgMagic, sig.collective, sig.dtype, sig.op,   seq,
                   bytes,     sig.seq,        sig.root,  sig.count};
}

// What the receiver expects of the next message from `peer`.
struct MsgExpectation {
  int peer;
  int self;            // this rank, for messages
  CallSignature call;  // the sender's call as this rank expects it (Send for a Recv)
  uint32_t seq;
  uint64_t bytes;
};

// Checks `raw` (32 bytes as they arrived) against `want`: a corrupt header (magic, sequence) or
// a different call or size is tuttiRemoteError with a sentence naming both ranks' calls.
Result checkMsgHeader(const void* raw, const MsgExpectation& want);

}  // namespace tutti
