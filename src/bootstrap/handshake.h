// Mutual challenge-response over a fresh connection: each side proves it holds the unique
// id's secret with an HMAC over the other side's random nonce. A wrong or missing secret is
// refused; the secret itself never crosses the wire.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "bootstrap/socket.h"
#include "bootstrap/unique_id.h"

namespace tutti {

// Wire sizes: hello = magic + client nonce; challenge = magic + server nonce + server proof;
// proof = client proof.
constexpr size_t kNonceBytes = 16;
constexpr size_t kHelloBytes = 8 + kNonceBytes;
constexpr size_t kChallengeBytes = 8 + kNonceBytes + 32;
constexpr size_t kProofBytes = 32;

// The blocking exchange over `sock` (the client speaks first).
Result handshakeClient(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort);
Result handshakeServer(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort);

// The same exchange as pure steps over bytes, so that non-blocking servers (the rendezvous
// root) and fuzzers can drive it without sockets. Every step checks the size and content of
// the bytes it is given, which come from an untrusted peer.
void handshakeMakeHello(const uint8_t clientNonce[kNonceBytes], uint8_t hello[kHelloBytes]);
// Server: checks a client's hello and writes the challenge (proving the secret over the
// client's nonce) that answers it.
Result handshakeAnswerHello(const uint8_t secret[kSecretBytes],
                            const uint8_t serverNonce[kNonceBytes], const void* hello, size_t bytes,
                            uint8_t challenge[kChallengeBytes]);
// Client: checks the server's proof in `challenge` and writes its own proof.
Result handshakeAnswerChallenge(const uint8_t secret[kSecretBytes],
                                const uint8_t clientNonce[kNonceBytes], const void* challenge,
                                size_t bytes, uint8_t proof[kProofBytes]);
// Server: checks the client's proof over the server's nonce.
Result handshakeCheckProof(const uint8_t secret[kSecretBytes],
                           const uint8_t serverNonce[kNonceBytes], const void* proof, size_t bytes);

// Fills `out` with cryptographically random bytes (getrandom).
Result randomBytes(void* out, size_t bytes);

}  // namespace tutti
