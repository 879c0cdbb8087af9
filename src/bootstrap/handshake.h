// Mutual challenge-response over a fresh connection: each side proves it holds the unique
// id's secret with an HMAC over the other side's random nonce. A wrong or missing secret is
// refused; the secret itself never crosses the wire.
#pragma once

#include <atomic>

#include "bootstrap/socket.h"
#include "bootstrap/unique_id.h"

namespace tutti {

Result handshakeClient(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort);
Result handshakeServer(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort);
// Fills `out` with cryptographically random bytes (getrandom).
Result randomBytes(void* out, size_t bytes);

}  // namespace tutti
