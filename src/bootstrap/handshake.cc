// Challenge-response authentication for bootstrap connections.
#include "bootstrap/handshake.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "bootstrap/hmac_sha256.h"

namespace tutti {
namespace {

constexpr char kHelloMagic[8] = {'T', 'U', 'T', 'T', 'I', 'B', 'S', '1'};

struct Hello {
  char magic[8];
  uint8_t nonce[kNonceBytes];
};
struct Challenge {
  char magic[8];
  uint8_t nonce[kNonceBytes];
  uint8_t proof[32];  // HMAC(secret, "server" || client nonce)
};
struct Proof {
  uint8_t proof[32];  // HMAC(secret, "client" || server nonce)
};
static_assert(sizeof(Hello) == kHelloBytes && sizeof(Challenge) == kChallengeBytes &&
                  sizeof(Proof) == kProofBytes,
              "wire layout");

Digest prove(const uint8_t secret[kSecretBytes], const char* role, const uint8_t nonce[16]) {
  uint8_t msg[6 + kNonceBytes];
  memcpy(msg, role, 6);
  memcpy(msg + 6, nonce, kNonceBytes);
  return hmacSha256(secret, kSecretBytes, msg, sizeof(msg));
}

bool proofMatches(const Digest& expect, const uint8_t proof[32]) {
  Digest got;
  memcpy(got.data(), proof, got.size());
  return digestEqual(expect, got);
}

}  // namespace

Result randomBytes(void* out, size_t bytes) {
  uint8_t* p = static_cast<uint8_t*>(out);
  while (bytes > 0) {
    ssize_t n = getrandom(p, bytes, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return setError(tuttiSystemError, "getrandom failed: %s", strerror(errno));
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return tuttiSuccess;
}

void handshakeMakeHello(const uint8_t clientNonce[kNonceBytes], uint8_t hello[kHelloBytes]) {
  Hello h;
  memcpy(h.magic, kHelloMagic, sizeof(kHelloMagic));
  memcpy(h.nonce, clientNonce, kNonceBytes);
  memcpy(hello, &h, sizeof(h));
}

Result handshakeAnswerHello(const uint8_t secret[kSecretBytes],
                            const uint8_t serverNonce[kNonceBytes], const void* hello, size_t bytes,
                            uint8_t challenge[kChallengeBytes]) {
  Hello h;
  if (bytes != sizeof(h))
    return setError(tuttiRemoteError, "hello of %zu bytes, expected %zu", bytes, sizeof(h));
  memcpy(&h, hello, sizeof(h));
  if (memcmp(h.magic, kHelloMagic, sizeof(kHelloMagic)) != 0)
    return setError(tuttiRemoteError, "not a Tutti client (bad magic)");
  Challenge ch;
  memcpy(ch.magic, kHelloMagic, sizeof(kHelloMagic));
  memcpy(ch.nonce, serverNonce, kNonceBytes);
  Digest mine = prove(secret, "server", h.nonce);
  memcpy(ch.proof, mine.data(), mine.size());
  memcpy(challenge, &ch, sizeof(ch));
  return tuttiSuccess;
}

Result handshakeAnswerChallenge(const uint8_t secret[kSecretBytes],
                                const uint8_t clientNonce[kNonceBytes], const void* challenge,
                                size_t bytes, uint8_t proof[kProofBytes]) {
  Challenge ch;
  if (bytes != sizeof(ch))
    return setError(tuttiRemoteError, "challenge of %zu bytes, expected %zu", bytes, sizeof(ch));
  memcpy(&ch, challenge, sizeof(ch));
  if (memcmp(ch.magic, kHelloMagic, sizeof(kHelloMagic)) != 0)
    return setError(tuttiRemoteError, "peer is not a Tutti bootstrap endpoint (bad magic)");
  if (!proofMatches(prove(secret, "server", clientNonce), ch.proof))
    return setError(tuttiRemoteError,
                    "peer could not prove the unique id's secret (wrong or stale unique id?)");
  Proof pr;
  Digest mine = prove(secret, "client", ch.nonce);
  memcpy(pr.proof, mine.data(), mine.size());
  memcpy(proof, &pr, sizeof(pr));
  return tuttiSuccess;
}

Result handshakeCheckProof(const uint8_t secret[kSecretBytes],
                           const uint8_t serverNonce[kNonceBytes], const void* proof,
                           size_t bytes) {
  Proof pr;
  if (bytes != sizeof(pr))
    return setError(tuttiRemoteError, "proof of %zu bytes, expected %zu", bytes, sizeof(pr));
  memcpy(&pr, proof, sizeof(pr));
  if (!proofMatches(prove(secret, "client", serverNonce), pr.proof))
    return setError(tuttiRemoteError, "client presented a wrong secret");
  return tuttiSuccess;
}

Result handshakeClient(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort) {
  uint8_t nonce[kNonceBytes], hello[kHelloBytes], challenge[kChallengeBytes], proof[kProofBytes];
  TUTTI_TRY(randomBytes(nonce, sizeof(nonce)));
  handshakeMakeHello(nonce, hello);
  TUTTI_CHECK(sock.sendAll(hello, sizeof(hello), deadline, abort), "sending hello");
  TUTTI_CHECK(sock.recvAll(challenge, sizeof(challenge), deadline, abort),
              "waiting for the challenge (the peer may have refused our secret)");
  TUTTI_TRY(handshakeAnswerChallenge(secret, nonce, challenge, sizeof(challenge), proof));
  TUTTI_CHECK(sock.sendAll(proof, sizeof(proof), deadline, abort), "sending proof");
  return tuttiSuccess;
}

Result handshakeServer(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort) {
  uint8_t nonce[kNonceBytes], hello[kHelloBytes], challenge[kChallengeBytes], proof[kProofBytes];
  TUTTI_CHECK(sock.recvAll(hello, sizeof(hello), deadline, abort), "waiting for hello");
  TUTTI_TRY(randomBytes(nonce, sizeof(nonce)));
  TUTTI_TRY(handshakeAnswerHello(secret, nonce, hello, sizeof(hello), challenge));
  TUTTI_CHECK(sock.sendAll(challenge, sizeof(challenge), deadline, abort), "sending challenge");
  TUTTI_CHECK(sock.recvAll(proof, sizeof(proof), deadline, abort), "waiting for proof");
  return handshakeCheckProof(secret, nonce, proof, sizeof(proof));
}

}  // namespace tutti
