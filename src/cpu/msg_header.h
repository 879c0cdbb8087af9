// The CPU executor's message framing: a 16-byte header precedes every message on a peer stream,
// and the receiver checks it before it touches its own buffers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "algorithms/plan.h"
#include "base/error.h"

namespace tutti {

struct MsgHeader {
  uint16_t magic;
  uint8_t collective;
  uint8_t dtype;
  uint32_t seq;    // per directed pair of ranks
  uint64_t bytes;  // payload; padded to the stream alignment (16)
};
static_assert(sizeof(MsgHeader) == 16, "header fills one stream slot");

constexpr uint16_t kMsgMagic = 0x5475;  // "Tu"

MsgHeader makeMsgHeader(Collective c, tuttiDataType_t dtype, uint32_t seq, uint64_t bytes);

// What the receiver expects of the next message from `peer`.
struct MsgExpectation {
  int peer;
  Collective collective;  // the sender's collective (Send for a Recv)
  uint32_t seq;
  uint64_t bytes;
};

// Checks `raw` (16 bytes as they arrived) against `want`: a corrupt header (magic, sequence) or
// a different collective or size is tuttiRemoteError with a sentence naming both sides' calls.
Result checkMsgHeader(const void* raw, const MsgExpectation& want);

}  // namespace tutti
