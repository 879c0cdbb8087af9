// The unique id's contents: rendezvous address, a random 128-bit secret, and whether rank 0
// must start the rendezvous root itself (TUTTI_COMM_ID) or a root thread already runs.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "bootstrap/socket.h"
#include "tutti/tutti.h"

namespace tutti {

constexpr int kSecretBytes = 16;

struct UniqueIdData {
  char magic[8];                 // "TUTTIID1"
  uint8_t secret[kSecretBytes];  // proven by every connection, never sent in clear
  uint8_t rootByRank0;           // 1: rank 0 starts the root on `addr` at init
  uint8_t family;                // 4 or 6
  uint16_t port;                 // host byte order
  uint8_t addr[16];              // IPv4 in the first 4 bytes, or IPv6
};
static_assert(sizeof(UniqueIdData) <= TUTTI_UNIQUE_ID_BYTES, "unique id overflow");

// tuttiGetUniqueId: with TUTTI_COMM_ID (or NCCL_COMM_ID) set, encodes that address and the
// secret from TUTTI_COMM_SECRET (hex; else derived from the address, which authenticates
// nothing and is logged as such); otherwise listens on the selected interface and starts the
// rendezvous root thread in this process.
Result createUniqueId(tuttiUniqueId* id, bool allowEnv = true);
Result decodeUniqueId(const tuttiUniqueId& id, UniqueIdData* out);
SocketAddress uniqueIdAddress(const UniqueIdData& data);
// The id every process derives from TUTTI_COMM_ID; false when the variable is unset.
bool uniqueIdFromEnv(tuttiUniqueId* id, Result* result);
// The same from the variables' texts: `commId` "host:port", `secretHex` 32 hex digits or empty
// (then derived from commId). resolveNames false accepts numeric addresses only.
Result uniqueIdFromSpec(const std::string& commId, const std::string& secretHex, bool resolveNames,
                        tuttiUniqueId* id);
// Parses exactly 2 * kSecretBytes hex digits; false on anything else.
bool parseHexSecret(const std::string& hex, uint8_t out[kSecretBytes]);

}  // namespace tutti
