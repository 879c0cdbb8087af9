// Message headers from a peer: checkMsgHeader on random 16- or 32-byte input (a short header
// reads as zeros past its end) against a random expectation. Input: one length byte (bit 0:
// 16 or 32 bytes), the raw header, then the expectation's fields.
#include <cstring>

#include "core/call_signature.h"
#include "cpu/msg_header.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

TUTTI_FUZZ_TARGET(msg_header) {
  fuzz::Input in(data, size);
  const size_t rawBytes = (in.byte() & 1) ? 32 : 16;
  unsigned char raw[32] = {};
  in.bytes(raw, rawBytes);
  MsgExpectation want;
  want.peer = in.value<uint16_t>();
  want.self = in.value<uint16_t>();
  want.call.collective = in.byte();
  want.call.dtype = in.byte();
  want.call.op = in.byte();
  want.call.root = in.value<int32_t>();
  want.call.count = in.value<uint64_t>();
  want.call.seq = in.value<uint32_t>();
  want.seq = in.value<uint32_t>();
  want.bytes = in.value<uint64_t>();
  // Half the time, the header the expected sender would have written, with a few bytes changed.
  if (in.byte() & 1) {
    const MsgHeader h = makeMsgHeader(want.call, want.seq, want.bytes);
    memcpy(raw, &h, sizeof(h));
    const uint8_t flips = in.byte() % 4;
    for (uint8_t i = 0; i < flips; ++i) raw[in.byte() % 32] ^= 1 + in.byte() % 255;
  }
  const MsgHeader exact = makeMsgHeader(want.call, want.seq, want.bytes);
  const bool same = memcmp(raw, &exact, sizeof(exact)) == 0;
  clearError();
  const Result r = checkMsgHeader(raw, want);
  // Exactly the sender's header passes; anything else is a remote error naming the peer.
  FUZZ_CHECK((r == tuttiSuccess) == same, "result %d for a header that %s", r,
             same ? "matches" : "differs");
  if (r != tuttiSuccess) {
    FUZZ_CHECK(r == tuttiRemoteError, "result %d", r);
    const std::string msg = lastError();
    const std::string peer = "rank " + std::to_string(want.peer);
    FUZZ_CHECK(msg.find(peer) != std::string::npos, "'%s' does not name %s", msg.c_str(),
               peer.c_str());
  }
  // The packed signature is a function of the signature, and its low half decodes.
  const uint64_t packed = packCallSignature(want.call);
  FUZZ_CHECK(packed == packCallSignature(want.call), "packing is not deterministic");
  FUZZ_CHECK((packed & 0xff) == want.call.collective, "collective bits");
  (void)describePackedSignature(packed);
  (void)describeCall(want.call);
  return 0;
}
