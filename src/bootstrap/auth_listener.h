// A listening socket whose connections must prove the unique id's secret before they count:
// the rendezvous root's, and each rank's bootstrap ring listener. One thread serves every
// connection through poll(). A connection moves from its hello (answered with our challenge) to
// its proof, then to its first message, whose size the owner states; only then is it handed
// over. Until then it is a stranger, and strangers are bounded twice: by count (when
// `maxPending` are pending, a new one evicts the oldest that has not yet sent a valid hello,
// else the oldest waiting on its proof) and by time (`authMs` from accept to first message). A
// peer completes its three messages in a few round trips, so junk cannot crowd it out unless it
// arrives faster than we accept; every refusal is counted, warned about at a limited rate, and
// summed up by summarize().
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bootstrap/handshake.h"
#include "bootstrap/socket.h"

namespace tutti {

struct AuthLimits {
  size_t maxPending;  // TUTTI_BOOTSTRAP_MAX_PENDING (256)
  int authMs;         // TUTTI_BOOTSTRAP_AUTH_MS (10 s, or the timeout if shorter)
  static AuthLimits fromEnv(int timeoutMs);
};

// A connection that proved the secret, with its first message.
struct AuthConnection {
  Socket sock;
  SocketAddress peer;
  std::vector<uint8_t> message;
};

class AuthListener {
 public:
  // The first message's full size, given its first `have` bytes (at least `messageBytes`):
  // lets a message announce that more follows. Null: always `messageBytes`.
  using MessageSize = std::function<size_t(const uint8_t* bytes, size_t have)>;

  // Serves `listener` (made non-blocking; it must outlive this). `where` starts every log line.
  AuthListener(Socket& listener, const uint8_t secret[kSecretBytes], AuthLimits limits,
               size_t messageBytes, MessageSize messageSize, std::string where);
  ~AuthListener();

  // Waits up to `ms` for the listener and the pending connections, serves what is ready, and
  // appends the connections that completed to *done.
  void serve(int ms, std::vector<AuthConnection>* done);
  // Hands each completed connection to `take`, which keeps what it wants (moving the socket
  // out) and counts the rest with refusedMessage(), until `take` returns true (it has all it
  // waits for). tuttiTimeout when `dl` passes first, tuttiAborted when `abort` or `stop` is set
  // (either may be null); both are looked at every 100 ms.
  Result serveUntil(Deadline dl, const std::atomic<bool>* abort, const std::atomic<bool>* stop,
                    const std::function<bool(AuthConnection&)>& take);
  // Closes every pending connection.
  void clear();
  // One line of what was refused, by reason (nothing when nothing was); also flushes the
  // warnings that the rate limit held back.
  void summarize();
  // Counts a completed connection whose first message the owner refused.
  void refusedMessage() { ++refused_.badMessage; }
  const std::string& where() const { return where_; }

 private:
  struct Pending;
  struct Refusals {
    uint64_t badHello = 0, wrongSecret = 0, badMessage = 0, closed = 0, silent = 0, evicted = 0;
    uint64_t total() const {
      return badHello + wrongSecret + badMessage + closed + silent + evicted;
    }
  };

  void acceptBurst();
  bool evictOne();
  void expireSilent();
  // Reads what `p` sent and advances it; false when it is done with (refused, closed, or
  // complete, in which case it was moved to *done).
  bool progress(Pending& p, std::vector<AuthConnection>* done);

  Socket& listener_;
  uint8_t secret_[kSecretBytes];
  AuthLimits limits_;
  size_t messageBytes_;
  MessageSize messageSize_;
  std::string where_;
  std::vector<std::unique_ptr<Pending>> pending_;
  Refusals refused_;
  // Out of descriptors (EMFILE, ENFILE) the connection stays queued and poll() reports it at
  // once: the listener is left out of poll() for a while instead of spinning on it, and a
  // timeout says why nobody got through.
  std::chrono::steady_clock::time_point acceptPausedUntil_{};
  uint64_t acceptFailures_ = 0;
  std::string acceptError_;
};

}  // namespace tutti
