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
  uint8_t nonce[16];
};
struct Challenge {
  char magic[8];
  uint8_t nonce[16];
  uint8_t proof[32];  // HMAC(secret, "server" || client nonce)
};
struct Proof {
  uint8_t proof[32];  // HMAC(secret, "client" || server nonce)
};

Digest prove(const uint8_t secret[kSecretBytes], const char* role, const uint8_t nonce[16]) {
  uint8_t msg[6 + 16];
  memcpy(msg, role, 6);
  memcpy(msg + 6, nonce, 16);
  return hmacSha256(secret, kSecretBytes, msg, sizeof(msg));
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

Result handshakeClient(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort) {
  Hello hello;
  memcpy(hello.magic, kHelloMagic, sizeof(kHelloMagic));
  TUTTI_TRY(randomBytes(hello.nonce, sizeof(hello.nonce)));
  TUTTI_CHECK(sock.sendAll(&hello, sizeof(hello), deadline, abort), "sending hello");
  Challenge ch;
  TUTTI_CHECK(sock.recvAll(&ch, sizeof(ch), deadline, abort),
              "waiting for the challenge (the peer may have refused our secret)");
  if (memcmp(ch.magic, kHelloMagic, sizeof(kHelloMagic)) != 0)
    return setError(tuttiRemoteError, "peer is not a Tutti bootstrap endpoint (bad magic)");
  Digest expect = prove(secret, "server", hello.nonce);
  Digest got;
  memcpy(got.data(), ch.proof, got.size());
  if (!digestEqual(expect, got))
    return setError(tuttiRemoteError,
                    "peer could not prove the unique id's secret (wrong or stale unique id?)");
  Proof pr;
  Digest mine = prove(secret, "client", ch.nonce);
  memcpy(pr.proof, mine.data(), mine.size());
  TUTTI_CHECK(sock.sendAll(&pr, sizeof(pr), deadline, abort), "sending proof");
  return tuttiSuccess;
}

Result handshakeServer(Socket& sock, const uint8_t secret[kSecretBytes], Deadline deadline,
                       const std::atomic<bool>* abort) {
  Hello hello;
  TUTTI_CHECK(sock.recvAll(&hello, sizeof(hello), deadline, abort), "waiting for hello");
  if (memcmp(hello.magic, kHelloMagic, sizeof(kHelloMagic)) != 0)
    return setError(tuttiRemoteError, "not a Tutti client (bad magic)");
  Challenge ch;
  memcpy(ch.magic, kHelloMagic, sizeof(kHelloMagic));
  TUTTI_TRY(randomBytes(ch.nonce, sizeof(ch.nonce)));
  Digest mine = prove(secret, "server", hello.nonce);
  memcpy(ch.proof, mine.data(), mine.size());
  TUTTI_CHECK(sock.sendAll(&ch, sizeof(ch), deadline, abort), "sending challenge");
  Proof pr;
  TUTTI_CHECK(sock.recvAll(&pr, sizeof(pr), deadline, abort), "waiting for proof");
  Digest expect = prove(secret, "client", ch.nonce);
  Digest got;
  memcpy(got.data(), pr.proof, got.size());
  if (!digestEqual(expect, got))
    return setError(tuttiRemoteError, "client presented a wrong secret");
  return tuttiSuccess;
}

}  // namespace tutti
