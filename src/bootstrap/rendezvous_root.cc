// Rendezvous root thread: authenticated star exchange of the ranks' ring addresses.
//
// One thread serves every connection through poll(). A connection moves through three
// stages: the client's hello (answered with our challenge), its proof, then its announce;
// only then is it a rank and held until the table is complete. A rank that failed before it
// could join sends a withdrawal instead of an announce: from then on every rank held, and
// every rank that announces itself later, is answered with the withdrawn rank's error, so that
// init fails everywhere at once rather than at the timeout. Until then it is a stranger,
// and strangers are bounded twice: by count (when TUTTI_BOOTSTRAP_MAX_PENDING are pending, a
// new one evicts the oldest that has not yet sent a valid hello, else the oldest waiting on
// its proof) and by time (TUTTI_BOOTSTRAP_AUTH_MS from accept to announce). A rank completes
// its three messages in a few round trips, so junk cannot crowd it out unless it arrives
// faster than the root accepts; every refusal is counted, warned about at a limited rate, and
// summed up in one line at the end.
#include "bootstrap/rendezvous_root.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "bootstrap/handshake.h"

namespace tutti {
namespace {

constexpr int kSendTableMs = 10000;  // per rank, when handing out the table
constexpr int kAcceptBurst = 32;     // connections accepted per loop turn
constexpr int kPollSliceMs = 100;

using Clock = std::chrono::steady_clock;

struct RootState {
  Socket listener;
  uint8_t secret[kSecretBytes];
  int timeoutMs;
};

enum class Stage { kHello, kProof, kAnnounce, kWithdraw };

constexpr size_t kWithdrawBytes = sizeof(RankAnnounce) + kReasonBytes;

struct Pending {
  Socket sock;
  SocketAddress peer;
  Stage stage = Stage::kHello;
  Clock::time_point accepted;
  uint8_t nonce[kNonceBytes];
  uint8_t buf[kWithdrawBytes > kHelloBytes ? kWithdrawBytes : kHelloBytes];
  size_t have = 0;
};

size_t stageBytes(Stage s) {
  switch (s) {
    case Stage::kHello: return kHelloBytes;
    case Stage::kProof: return kProofBytes;
    case Stage::kAnnounce: return sizeof(RankAnnounce);
    case Stage::kWithdraw: return kWithdrawBytes;
  }
  return 0;
}

// What happened to the connections that did not become ranks.
struct Refusals {
  uint64_t badHello = 0, wrongSecret = 0, badAnnounce = 0, closed = 0, silent = 0, evicted = 0;
  uint64_t total() const {
    return badHello + wrongSecret + badAnnounce + closed + silent + evicted;
  }
};

// Answers a rank with no table: its announce was refused, or another rank withdrew.
void answerWithoutTable(Socket& s, TableStatus status, const std::string& reason) {
  TableHeader h{};
  h.magic = kTableMagic;
  h.status = status;
  snprintf(h.reason, sizeof(h.reason), "%s", reason.c_str());
  (void)s.sendAll(&h, sizeof(h), Deadline::afterMs(100));
}

// Sends a whole small message on a fresh connection without waiting: a peer that does not
// take 56 bytes into an empty socket buffer is not worth waiting for.
bool sendNow(Socket& s, const void* data, size_t bytes) {
  ssize_t n = ::send(s.fd(), data, bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
  return n == static_cast<ssize_t>(bytes);
}

class Root {
 public:
  explicit Root(std::unique_ptr<RootState> st) : st_(std::move(st)) {
    authMs_ = static_cast<int>(
        std::max<int64_t>(1, envInt("TUTTI_BOOTSTRAP_AUTH_MS", std::min(10000, st_->timeoutMs))));
    maxPending_ =
        static_cast<size_t>(std::max<int64_t>(1, envInt("TUTTI_BOOTSTRAP_MAX_PENDING", 256)));
    SocketAddress local;
    if (st_->listener.localAddress(&local) == tuttiSuccess) where_ = local.toString();
  }

  // `started` is set once the thread is set up and about to wait in poll(): until a peer
  // connects it then holds no lock (see startRendezvousRoot).
  void run(std::promise<void>* started) {
    Deadline deadline = Deadline::afterMs(st_->timeoutMs);
    (void)st_->listener.setNonBlocking();
    std::vector<pollfd> fds;
    fds.reserve(maxPending_ + 1);
    pending_.reserve(maxPending_);
    started->set_value();
    while (!table_.settled()) {
      if (deadline.expired()) {
        TUTTI_WARN("rendezvous root %s: gave up with %d of %d ranks (%d withdrew) after %d ms",
                   where_.c_str(), table_.arrived(), table_.nranks(), table_.withdrawn(),
                   st_->timeoutMs);
        summarize();
        return;
      }
      expireSilent();
      fds.clear();
      fds.push_back({st_->listener.fd(), POLLIN, 0});
      for (const auto& p : pending_) fds.push_back({p->sock.fd(), POLLIN, 0});
      int rc = ::poll(fds.data(), fds.size(), deadline.remainingMs(kPollSliceMs));
      if (rc < 0 && errno != EINTR) {
        TUTTI_WARN("rendezvous root %s: poll failed: %s", where_.c_str(), strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (rc <= 0) continue;
      // Serve the pending connections first (their indices match fds[1..]), then accept.
      std::vector<bool> drop(pending_.size(), false);
      for (size_t i = 0; i < pending_.size(); ++i)
        if (fds[i + 1].revents) drop[i] = !progress(*pending_[i]);
      size_t keep = 0;
      for (size_t i = 0; i < pending_.size(); ++i)
        if (!drop[i] && pending_[i]) pending_[keep++] = std::move(pending_[i]);
      pending_.resize(keep);
      if (fds[0].revents) acceptBurst();
    }
    pending_.clear();
    if (table_.failed()) {
      TUTTI_WARN("rendezvous root %s: %s; told the %d other rank(s)", where_.c_str(),
                 table_.failure().c_str(), table_.arrived());
    } else {
      sendTables();
      TUTTI_INFO("rendezvous root %s: %d ranks connected", where_.c_str(), table_.nranks());
    }
    summarize();
  }

 private:
  void acceptBurst() {
    for (int i = 0; i < kAcceptBurst; ++i) {
      SocketAddress a;
      a.length = sizeof(a.storage);
      int fd = ::accept4(st_->listener.fd(), reinterpret_cast<sockaddr*>(&a.storage), &a.length,
                         SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
          TUTTI_WARN("rendezvous root %s: accept failed: %s", where_.c_str(), strerror(errno));
        return;
      }
      auto p = std::make_unique<Pending>();
      p->sock = Socket::adopt(fd);
      p->peer = a;
      p->accepted = Clock::now();
      if (randomBytes(p->nonce, sizeof(p->nonce)) != tuttiSuccess) continue;
      if (pending_.size() >= maxPending_ && !evictOne()) {
        ++refused_.evicted;
        TUTTI_WARN("rendezvous root %s: %zu connections are authenticating; dropped %s",
                   where_.c_str(), pending_.size(), a.toString().c_str());
        continue;
      }
      pending_.push_back(std::move(p));
    }
  }

  // Makes room for one more stranger: the oldest that has not said hello, else the oldest
  // that has not proved the secret. Authenticated connections are never evicted.
  bool evictOne() {
    for (Stage s : {Stage::kHello, Stage::kProof}) {
      auto oldest = pending_.end();
      for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if ((*it)->stage == s &&
            (oldest == pending_.end() || (*it)->accepted < (*oldest)->accepted))
          oldest = it;
      if (oldest != pending_.end()) {
        ++refused_.evicted;
        TUTTI_WARN("rendezvous root %s: %zu connections pending; evicted %s (no %s yet)",
                   where_.c_str(), pending_.size(), (*oldest)->peer.toString().c_str(),
                   s == Stage::kHello ? "hello" : "proof");
        pending_.erase(oldest);
        return true;
      }
    }
    return false;
  }

  void expireSilent() {
    const auto now = Clock::now();
    const auto limit = std::chrono::milliseconds(authMs_);
    size_t keep = 0;
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (now - pending_[i]->accepted >= limit) {
        ++refused_.silent;
        TUTTI_WARN("rendezvous root %s: %s did not authenticate within %d ms; closed",
                   where_.c_str(), pending_[i]->peer.toString().c_str(), authMs_);
        continue;
      }
      pending_[keep++] = std::move(pending_[i]);
    }
    pending_.resize(keep);
  }

  // Reads what `p` sent and advances its stage; false when it is done with (refused, closed
  // or became a rank).
  bool progress(Pending& p) {
    const size_t need = stageBytes(p.stage);
    ssize_t n = ::recv(p.sock.fd(), p.buf + p.have, need - p.have, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      ++refused_.closed;
      TUTTI_WARN("rendezvous root %s: %s closed the connection before joining", where_.c_str(),
                 p.peer.toString().c_str());
      return false;
    }
    if (n < 0) return true;
    p.have += static_cast<size_t>(n);
    if (p.have < need) return true;
    if (p.stage == Stage::kAnnounce && loadMagic(p.buf) == kWithdrawMagic) {
      p.stage = Stage::kWithdraw;  // the reason follows the announce's bytes
      return true;
    }
    p.have = 0;
    switch (p.stage) {
      case Stage::kHello: {
        uint8_t challenge[kChallengeBytes];
        if (handshakeAnswerHello(st_->secret, p.nonce, p.buf, need, challenge) != tuttiSuccess) {
          ++refused_.badHello;
          TUTTI_WARN("rendezvous root %s: rejected connection from %s: %s", where_.c_str(),
                     p.peer.toString().c_str(), lastError().c_str());
          return false;
        }
        if (!sendNow(p.sock, challenge, sizeof(challenge))) {
          ++refused_.closed;
          return false;
        }
        p.stage = Stage::kProof;
        return true;
      }
      case Stage::kProof:
        if (handshakeCheckProof(st_->secret, p.nonce, p.buf, need) != tuttiSuccess) {
          ++refused_.wrongSecret;
          TUTTI_WARN("rendezvous root %s: rejected connection from %s: %s", where_.c_str(),
                     p.peer.toString().c_str(), lastError().c_str());
          return false;
        }
        p.stage = Stage::kAnnounce;
        return true;
      case Stage::kAnnounce:
      case Stage::kWithdraw: {
        const bool withdrawal = p.stage == Stage::kWithdraw;
        int rank = -1;
        std::string reason;
        if (!(withdrawal ? table_.withdraw(p.buf, need, &rank, &reason)
                         : table_.admit(p.buf, need, &rank, &reason))) {
          ++refused_.badAnnounce;
          TUTTI_WARN("rendezvous root %s: refused %s: %s", where_.c_str(),
                     p.peer.toString().c_str(), reason.c_str());
          answerWithoutTable(p.sock, kTableRefused, reason);
          return false;
        }
        if (withdrawal && table_.withdrawn() > 1) {
          TUTTI_WARN("rendezvous root %s: rank %d could not join either (its error says why)",
                     where_.c_str(), rank);
        } else if (withdrawal) {
          TUTTI_WARN("rendezvous root %s: %s", where_.c_str(), table_.failure().c_str());
          // The ranks held so far hear it now; the withdrawing rank hears it too, which tells
          // it that the others were told.
          for (Socket& held : ranks_) {
            if (!held.valid()) continue;
            answerWithoutTable(held, kTableAborted, table_.failure());
            held.close();
          }
        }
        if (table_.failed()) {
          answerWithoutTable(p.sock, kTableAborted, table_.failure());
          return false;
        }
        if (ranks_.empty()) ranks_.resize(table_.nranks());
        ranks_[rank] = std::move(p.sock);
        return false;
      }
    }
    return false;
  }

  static uint32_t loadMagic(const uint8_t* bytes) {
    uint32_t m;
    memcpy(&m, bytes, sizeof(m));
    return m;
  }

  void sendTables() {
    TableHeader h{};
    h.magic = kTableMagic;
    h.nranks = table_.nranks();
    const auto& table = table_.addresses();
    for (int r = 0; r < table_.nranks(); ++r) {
      Deadline d = Deadline::afterMs(kSendTableMs);
      if (ranks_[r].sendAll(&h, sizeof(h), d) != tuttiSuccess ||
          ranks_[r].sendAll(table.data(), table.size() * sizeof(PackedAddress), d) != tuttiSuccess)
        TUTTI_WARN("rendezvous root %s: rank %d left before receiving the table", where_.c_str(),
                   r);
    }
  }

  void summarize() {
    flushSuppressedWarnings();
    if (refused_.total() == 0) return;
    TUTTI_WARN(
        "rendezvous root %s: refused %llu connection(s) that were not ranks: %llu bad hello, %llu "
        "wrong secret, %llu bad announce, %llu closed early, %llu silent past %d ms, %llu evicted "
        "(over %zu pending)",
        where_.c_str(), (unsigned long long)refused_.total(), (unsigned long long)refused_.badHello,
        (unsigned long long)refused_.wrongSecret, (unsigned long long)refused_.badAnnounce,
        (unsigned long long)refused_.closed, (unsigned long long)refused_.silent, authMs_,
        (unsigned long long)refused_.evicted, maxPending_);
  }

  std::unique_ptr<RootState> st_;
  std::string where_;
  int authMs_ = 10000;
  size_t maxPending_ = 256;
  std::vector<std::unique_ptr<Pending>> pending_;
  std::vector<Socket> ranks_;
  RendezvousTable table_;
  Refusals refused_;
};

}  // namespace

namespace {

// The roots this process serves and still runs, by secret: a rank that withdraws waits for its
// communicator's root before returning, so that the process outlives the root's answers to the
// others. Never destroyed: detached root threads may still use it while the process exits.
// Per process: a forked child inherits the parent's entries (and perhaps its lock) but not its
// threads, so it starts a list of its own.
struct RunningRoot {
  std::array<uint8_t, kSecretBytes> secret;
  std::shared_future<void> done;
};
struct RunningRoots {
  pid_t pid;
  std::mutex mutex;
  std::vector<RunningRoot> roots;
};

RunningRoots& runningRoots() {
  static std::atomic<RunningRoots*> current{nullptr};
  RunningRoots* r = current.load();
  while (!r || r->pid != getpid()) {
    auto* fresh = new RunningRoots;
    fresh->pid = getpid();
    if (current.compare_exchange_strong(r, fresh)) return *fresh;
    delete fresh;  // another thread installed one; check it
  }
  return *r;
}

std::array<uint8_t, kSecretBytes> secretKey(const uint8_t secret[kSecretBytes]) {
  std::array<uint8_t, kSecretBytes> k;
  memcpy(k.data(), secret, kSecretBytes);
  return k;
}

}  // namespace

void startRendezvousRoot(Socket listener, const uint8_t secret[kSecretBytes], int timeoutMs) {
  auto st = std::make_unique<RootState>();
  st->listener = std::move(listener);
  memcpy(st->secret, secret, kSecretBytes);
  st->timeoutMs = timeoutMs;
  // Returns once the thread runs and idles: a process that forks right after
  // tuttiGetUniqueId (test harnesses, Python multiprocessing) must not copy a lock the
  // thread holds while starting (ASan's allocator is not fork-safe; it deadlocked children).
  auto started = std::make_shared<std::promise<void>>();
  auto finished = std::make_shared<std::promise<void>>();
  std::future<void> ready = started->get_future();
  const auto key = secretKey(secret);
  {
    RunningRoots& rr = runningRoots();
    std::lock_guard<std::mutex> lock(rr.mutex);
    rr.roots.push_back({key, finished->get_future().share()});
  }
  std::thread([st = std::move(st), started, finished, key]() mutable {
    nameThisThread("rendezvous");
    {
      Root root(std::move(st));
      root.run(started.get());
    }
    RunningRoots& rr = runningRoots();
    std::lock_guard<std::mutex> lock(rr.mutex);
    for (auto it = rr.roots.begin(); it != rr.roots.end(); ++it)
      if (it->secret == key) {
        rr.roots.erase(it);
        break;
      }
    finished->set_value();
  }).detach();
  ready.wait_for(std::chrono::seconds(10));
}

void waitForLocalRendezvousRoot(const uint8_t secret[kSecretBytes], Deadline deadline) {
  std::shared_future<void> done;
  {
    RunningRoots& rr = runningRoots();
    std::lock_guard<std::mutex> lock(rr.mutex);
    for (const RunningRoot& r : rr.roots)
      if (r.secret == secretKey(secret)) done = r.done;
  }
  if (done.valid()) done.wait_for(std::chrono::milliseconds(deadline.remainingMs()));
}

}  // namespace tutti
