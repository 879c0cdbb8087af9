// Authenticated admission of connections on one listener (see auth_listener.h).
#include "bootstrap/auth_listener.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

#include "base/env.h"
#include "base/logging.h"

namespace tutti {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kAcceptBurst = 32;    // connections accepted per turn
constexpr int kPollSliceMs = 100;   // how soon serveUntil sees abort, stop or its deadline
constexpr int kAcceptPauseMs = 10;  // the listener's rest after running out of descriptors

std::string softFdLimitText() {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) != 0) return "unknown";
  return l.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(l.rlim_cur);
}

// Sends a whole small message on a fresh connection without waiting: a peer that does not
// take 56 bytes into an empty socket buffer is not worth waiting for.
bool sendNow(Socket& s, const void* data, size_t bytes) {
  ssize_t n = ::send(s.fd(), data, bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
  return n == static_cast<ssize_t>(bytes);
}

}  // namespace

AuthLimits AuthLimits::fromEnv(int timeoutMs) {
  AuthLimits l;
  l.authMs = static_cast<int>(
      std::max<int64_t>(1, envInt("TUTTI_BOOTSTRAP_AUTH_MS", std::min(10000, timeoutMs))));
  l.maxPending =
      static_cast<size_t>(std::max<int64_t>(1, envInt("TUTTI_BOOTSTRAP_MAX_PENDING", 256)));
  return l;
}

enum class Stage { kHello, kProof, kMessage };

struct AuthListener::Pending {
  Socket sock;
  SocketAddress peer;
  Stage stage = Stage::kHello;
  Clock::time_point accepted;
  uint8_t nonce[kNonceBytes];
  std::vector<uint8_t> buf;  // the current stage's bytes: buf.size() of them are wanted
  size_t have = 0;
};

AuthListener::AuthListener(Socket& listener, const uint8_t secret[kSecretBytes], AuthLimits limits,
                           size_t messageBytes, MessageSize messageSize, std::string where)
    : listener_(listener),
      limits_(limits),
      messageBytes_(messageBytes),
      messageSize_(std::move(messageSize)),
      where_(std::move(where)) {
  memcpy(secret_, secret, kSecretBytes);
  (void)listener_.setNonBlocking();
  pending_.reserve(limits_.maxPending);
}

AuthListener::~AuthListener() { clear(); }

void AuthListener::clear() { pending_.clear(); }

void AuthListener::serve(int ms, std::vector<AuthConnection>* done) {
  expireSilent();
  std::vector<pollfd> fds;
  fds.reserve(pending_.size() + 1);
  const Clock::time_point now = Clock::now();
  const bool paused = now < acceptPausedUntil_;
  if (paused)
    ms = std::min<int>(
        ms, 1 + static_cast<int>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(acceptPausedUntil_ - now)
                        .count()));
  fds.push_back({listener_.fd(), static_cast<short>(paused ? 0 : POLLIN), 0});
  for (const auto& p : pending_) fds.push_back({p->sock.fd(), POLLIN, 0});
  int rc = ::poll(fds.data(), fds.size(), ms);
  if (rc < 0 && errno != EINTR) {
    TUTTI_WARN("%s: poll failed: %s", where_.c_str(), strerror(errno));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return;
  }
  if (rc <= 0) return;
  // Serve the pending connections first (their indices match fds[1..]), then accept.
  std::vector<bool> drop(pending_.size(), false);
  for (size_t i = 0; i < pending_.size(); ++i)
    if (fds[i + 1].revents) drop[i] = !progress(*pending_[i], done);
  size_t keep = 0;
  for (size_t i = 0; i < pending_.size(); ++i)
    if (!drop[i] && pending_[i]) pending_[keep++] = std::move(pending_[i]);
  pending_.resize(keep);
  if (fds[0].revents) acceptBurst();
}

Result AuthListener::serveUntil(Deadline dl, const std::atomic<bool>* abort,
                                const std::atomic<bool>* stop,
                                const std::function<bool(AuthConnection&)>& take) {
  std::vector<AuthConnection> done;
  for (;;) {
    if ((abort && abort->load()) || (stop && stop->load()))
      return setError(tuttiAborted, "%s: stopped", where_.c_str());
    if (dl.expired()) {
      if (acceptFailures_ == 0) return setError(tuttiTimeout, "%s: timed out", where_.c_str());
      return setError(tuttiTimeout,
                      "%s: timed out; accepting failed %llu times: %s (soft limit of open files "
                      "%s)",
                      where_.c_str(), static_cast<unsigned long long>(acceptFailures_),
                      acceptError_.c_str(), softFdLimitText().c_str());
    }
    done.clear();
    serve(dl.remainingMs(kPollSliceMs), &done);
    bool all = false;
    for (AuthConnection& c : done) all = take(c) || all;
    if (all) return tuttiSuccess;
  }
}

void AuthListener::acceptBurst() {
  for (int i = 0; i < kAcceptBurst; ++i) {
    SocketAddress a;
    a.length = sizeof(a.storage);
    int fd = ::accept4(listener_.fd(), reinterpret_cast<sockaddr*>(&a.storage), &a.length,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED) return;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        acceptPausedUntil_ = Clock::now() + std::chrono::milliseconds(kAcceptPauseMs);
        ++acceptFailures_;
        acceptError_ = strerror(err);
      }
      TUTTI_WARN("%s: accept failed: %s", where_.c_str(), strerror(err));
      return;
    }
    auto p = std::make_unique<Pending>();
    p->sock = Socket::adopt(fd);
    p->sock.setNoDelay();  // the bootstrap's messages are small and each waits for an answer
    p->peer = a;
    p->accepted = Clock::now();
    p->buf.resize(kHelloBytes);
    if (randomBytes(p->nonce, sizeof(p->nonce)) != tuttiSuccess) continue;
    if (pending_.size() >= limits_.maxPending && !evictOne()) {
      ++refused_.evicted;
      TUTTI_WARN("%s: %zu connections are authenticating; dropped %s", where_.c_str(),
                 pending_.size(), a.toString().c_str());
      continue;
    }
    pending_.push_back(std::move(p));
  }
}

// Makes room for one more stranger: the oldest that has not said hello, else the oldest that
// has not proved the secret. Authenticated connections are never evicted.
bool AuthListener::evictOne() {
  for (Stage s : {Stage::kHello, Stage::kProof}) {
    auto oldest = pending_.end();
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
      if ((*it)->stage == s && (oldest == pending_.end() || (*it)->accepted < (*oldest)->accepted))
        oldest = it;
    if (oldest != pending_.end()) {
      ++refused_.evicted;
      TUTTI_WARN("%s: %zu connections pending; evicted %s (no %s yet)", where_.c_str(),
                 pending_.size(), (*oldest)->peer.toString().c_str(),
                 s == Stage::kHello ? "hello" : "proof");
      pending_.erase(oldest);
      return true;
    }
  }
  return false;
}

void AuthListener::expireSilent() {
  const auto now = Clock::now();
  const auto limit = std::chrono::milliseconds(limits_.authMs);
  size_t keep = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (now - pending_[i]->accepted >= limit) {
      ++refused_.silent;
      TUTTI_WARN("%s: %s did not authenticate within %d ms; closed", where_.c_str(),
                 pending_[i]->peer.toString().c_str(), limits_.authMs);
      continue;
    }
    pending_[keep++] = std::move(pending_[i]);
  }
  pending_.resize(keep);
}

bool AuthListener::progress(Pending& p, std::vector<AuthConnection>* done) {
  ssize_t n = ::recv(p.sock.fd(), p.buf.data() + p.have, p.buf.size() - p.have, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    ++refused_.closed;
    TUTTI_WARN("%s: %s closed the connection before it was done", where_.c_str(),
               p.peer.toString().c_str());
    return false;
  }
  if (n < 0) return true;
  p.have += static_cast<size_t>(n);
  if (p.have < p.buf.size()) return true;
  switch (p.stage) {
    case Stage::kHello: {
      uint8_t challenge[kChallengeBytes];
      if (handshakeAnswerHello(secret_, p.nonce, p.buf.data(), p.have, challenge) != tuttiSuccess) {
        ++refused_.badHello;
        TUTTI_WARN("%s: rejected connection from %s: %s", where_.c_str(), p.peer.toString().c_str(),
                   lastError().c_str());
        return false;
      }
      if (!sendNow(p.sock, challenge, sizeof(challenge))) {
        ++refused_.closed;
        return false;
      }
      p.stage = Stage::kProof;
      p.buf.assign(kProofBytes, 0);
      p.have = 0;
      return true;
    }
    case Stage::kProof:
      if (handshakeCheckProof(secret_, p.nonce, p.buf.data(), p.have) != tuttiSuccess) {
        ++refused_.wrongSecret;
        TUTTI_WARN("%s: rejected connection from %s: %s", where_.c_str(), p.peer.toString().c_str(),
                   lastError().c_str());
        return false;
      }
      p.stage = Stage::kMessage;
      p.buf.assign(messageBytes_, 0);
      p.have = 0;
      return true;
    case Stage::kMessage: {
      // The message may say that more of it follows.
      const size_t whole = messageSize_ ? messageSize_(p.buf.data(), p.have) : p.have;
      if (whole > p.have) {
        p.buf.resize(whole);
        return true;
      }
      done->push_back({std::move(p.sock), p.peer, std::move(p.buf)});
      return false;
    }
  }
  return false;
}

void AuthListener::summarize() {
  flushSuppressedWarnings();
  if (refused_.total() == 0) return;
  TUTTI_WARN(
      "%s: refused %llu connection(s) that were not ranks: %llu bad hello, %llu wrong secret, "
      "%llu bad first message, %llu closed early, %llu silent past %d ms, %llu evicted (over %zu "
      "pending)",
      where_.c_str(), (unsigned long long)refused_.total(), (unsigned long long)refused_.badHello,
      (unsigned long long)refused_.wrongSecret, (unsigned long long)refused_.badMessage,
      (unsigned long long)refused_.closed, (unsigned long long)refused_.silent, limits_.authMs,
      (unsigned long long)refused_.evicted, limits_.maxPending);
}

}  // namespace tutti
