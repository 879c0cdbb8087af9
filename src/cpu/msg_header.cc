// Message header construction and checks.
#include "cpu/msg_header.h"

#include <cstring>

namespace tutti {

MsgHeader makeMsgHeader(Collective c, tuttiDataType_t dtype, uint32_t seq, uint64_t bytes) {
  return MsgHeader{kMsgMagic, static_cast<uint8_t>(c), static_cast<uint8_t>(dtype), seq, bytes};
}

Result checkMsgHeader(const void* raw, const MsgExpectation& want) {
  MsgHeader h;
  memcpy(&h, raw, sizeof(h));
  if (h.magic != kMsgMagic || h.seq != want.seq)
    return setError(tuttiRemoteError,
                    "rank %d sent a corrupt message header (magic 0x%x, sequence %u, expected %u)",
                    want.peer, h.magic, h.seq, want.seq);
  if (h.collective != static_cast<uint8_t>(want.collective) || h.bytes != want.bytes)
    return setError(tuttiRemoteError,
                    "rank %d sent %s data of %llu bytes where this rank expected %s data of "
                    "%llu bytes: the ranks called different collectives or counts",
                    want.peer,
                    h.collective < static_cast<uint8_t>(Collective::kCount)
                        ? collectiveName(static_cast<Collective>(h.collective))
                        : "unknown",
                    (unsigned long long)h.bytes, collectiveName(want.collective),
                    (unsigned long long)want.bytes);
  return tuttiSuccess;
}

}  // namespace tutti
