// Rendezvous root thread: authenticated star exchange of the ranks' ring addresses.
//
// Connections are admitted by an AuthListener (hello, proof, then the first message: a rank's
// announce). An announced rank is held until the table is complete. A rank that failed before it
// could join sends a withdrawal instead of an announce: from then on every rank held, and every
// rank that announces itself later, is answered with the withdrawn rank's error, so that init
// fails everywhere at once rather than at the timeout.
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
#include <unordered_map>
#include <vector>

#include "base/fd_budget.h"
#include "base/logging.h"
#include "base/per_process.h"
#include "base/thread_name.h"
#include "bootstrap/auth_listener.h"

namespace tutti {
namespace {

constexpr int kSendTableMs = 10000;  // per rank, when handing out the table
constexpr size_t kWithdrawBytes = sizeof(RankAnnounce) + kReasonBytes;

struct RootState {
  Socket listener;
  uint8_t secret[kSecretBytes];
  int timeoutMs;
};

uint32_t loadMagic(const uint8_t* bytes) {
  uint32_t m;
  memcpy(&m, bytes, sizeof(m));
  return m;
}

// Answers a rank with no table: its announce was refused, or another rank withdrew.
void answerWithoutTable(Socket& s, TableStatus status, const std::string& reason) {
  TableHeader h{};
  h.magic = kTableMagic;
  h.status = status;
  snprintf(h.reason, sizeof(h.reason), "%s", reason.c_str());
  (void)s.sendAll(&h, sizeof(h), Deadline::afterMs(100));
}

std::string rootName(const Socket& listener) {
  SocketAddress local;
  if (listener.localAddress(&local) != tuttiSuccess) return "rendezvous root";
  return "rendezvous root " + local.toString();
}

class Root {
 public:
  explicit Root(std::unique_ptr<RootState> st)
      : st_(std::move(st)),
        admit_(
            st_->listener, st_->secret, AuthLimits::fromEnv(st_->timeoutMs), sizeof(RankAnnounce),
            // A withdrawal is an announce with its own magic, then the reason.
            [](const uint8_t* bytes, size_t) {
              return loadMagic(bytes) == kWithdrawMagic ? kWithdrawBytes : sizeof(RankAnnounce);
            },
            rootName(st_->listener)) {}

  // `started` is set once the thread is set up and about to wait in poll(): until a peer
  // connects it then holds no lock (see startRendezvousRoot).
  void run(std::promise<void>* started) {
    const Deadline deadline = Deadline::afterMs(st_->timeoutMs);
    started->set_value();
    if (admit_.serveUntil(deadline, nullptr, nullptr, [&](AuthConnection& c) {
          take(c);
          return table_.settled();
        }) != tuttiSuccess) {
      TUTTI_WARN("%s: gave up with %d of %d ranks (%d withdrew) after %d ms",
                 admit_.where().c_str(), table_.arrived(), table_.nranks(), table_.withdrawn(),
                 st_->timeoutMs);
      admit_.summarize();
      return;
    }
    admit_.clear();
    if (table_.failed()) {
      TUTTI_WARN("%s: %s; told the %d other rank(s)", admit_.where().c_str(),
                 table_.failure().c_str(), table_.arrived());
    } else {
      sendTables();
      TUTTI_INFO("%s: %d ranks connected", admit_.where().c_str(), table_.nranks());
      if (table_.nranks() > 1) awaitRing(deadline);
    }
    admit_.summarize();
  }

 private:
  // An authenticated connection's announce or withdrawal.
  void take(AuthConnection& c) {
    const bool withdrawal = loadMagic(c.message.data()) == kWithdrawMagic;
    int rank = -1;
    std::string reason;
    if (!(withdrawal ? table_.withdraw(c.message.data(), c.message.size(), &rank, &reason)
                     : table_.admit(c.message.data(), c.message.size(), &rank, &reason))) {
      admit_.refusedMessage();
      TUTTI_WARN("%s: refused %s: %s", admit_.where().c_str(), c.peer.toString().c_str(),
                 reason.c_str());
      answerWithoutTable(c.sock, kTableRefused, reason);
      return;
    }
    if (withdrawal && table_.withdrawn() > 1) {
      TUTTI_WARN("%s: rank %d could not join either (its error says why)", admit_.where().c_str(),
                 rank);
    } else if (withdrawal) {
      TUTTI_WARN("%s: %s", admit_.where().c_str(), table_.failure().c_str());
      // The ranks held so far hear it now; the withdrawing rank hears it too, which tells it
      // that the others were told.
      for (Socket& held : ranks_) {
        if (!held.valid()) continue;
        answerWithoutTable(held, kTableAborted, table_.failure());
        held.close();
      }
    }
    if (table_.failed()) {
      answerWithoutTable(c.sock, kTableAborted, table_.failure());
      return;
    }
    if (ranks_.empty()) {
      ranks_.resize(table_.nranks());
      // The root holds a connection per rank until the table goes out (base/fd_budget.h).
      raiseFdLimit(fdAskHere(table_.nranks()), "rendezvous connections");
    }
    ranks_[rank] = std::move(c.sock);
  }

  // Waits for every rank's ring report. The first failure, or a rank that leaves without a
  // report, goes to every rank that has not reported yet: a rank whose predecessor cannot reach
  // it would otherwise wait for it until the timeout.
  void awaitRing(Deadline deadline) {
    const int n = table_.nranks();
    // A report mostly comes whole in one read; only the ranks whose report came in pieces keep
    // a buffer (n of them would be 512 bytes a rank).
    std::unordered_map<int, std::vector<char>> partial;
    std::vector<bool> done(n, false);
    std::string failure;
    int left = n;
    std::vector<pollfd> fds;
    std::vector<int> who;
    while (left > 0 && failure.empty() && !deadline.expired()) {
      fds.clear();
      who.clear();
      for (int r = 0; r < n; ++r)
        if (!done[r]) {
          fds.push_back({ranks_[r].fd(), POLLIN, 0});
          who.push_back(r);
        }
      if (::poll(fds.data(), fds.size(), deadline.remainingMs(100)) <= 0) continue;
      for (size_t i = 0; i < fds.size() && failure.empty(); ++i) {
        if (!fds[i].revents) continue;
        const int r = who[i];
        auto it = partial.find(r);
        const size_t had = it == partial.end() ? 0 : it->second.size();
        char report[sizeof(RingReport)];
        if (had) memcpy(report, it->second.data(), had);
        const ssize_t k = ::recv(ranks_[r].fd(), report + had, sizeof(report) - had, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          failure = "rank " + std::to_string(r) + " left before the bootstrap ring was connected";
          break;
        }
        if (k < 0) continue;
        if (had + static_cast<size_t>(k) < sizeof(report)) {
          partial[r].assign(report, report + had + k);
          continue;
        }
        partial.erase(r);
        std::string why;
        if (!readRingReport(report, sizeof(report), r, &failure, &why))
          failure = "rank " + std::to_string(r) + " sent " + why;
        done[r] = true;
        --left;
        ranks_[r].close();
      }
    }
    if (failure.empty()) return;
    TUTTI_WARN("%s: %s; telling the ranks still connecting", admit_.where().c_str(),
               failure.c_str());
    for (int r = 0; r < n; ++r)
      if (!done[r]) answerWithoutTable(ranks_[r], kTableAborted, failure);
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
        TUTTI_WARN("%s: rank %d left before receiving the table", admit_.where().c_str(), r);
    }
  }

  std::unique_ptr<RootState> st_;
  AuthListener admit_;
  std::vector<Socket> ranks_;
  RendezvousTable table_;
};

}  // namespace

namespace {

// The roots this process serves and still runs, by secret: a rank that withdraws waits for its
// communicator's root before returning, so that the process outlives the root's answers to the
// others. One per process (base/per_process.h): a forked child does not run its parent's roots.
struct RunningRoot {
  std::array<uint8_t, kSecretBytes> secret;
  std::shared_future<void> done;
};
struct RunningRoots {
  explicit RunningRoots(pid_t p) : pid_(p) {}
  pid_t pid() const { return pid_; }
  std::mutex mutex;
  std::vector<RunningRoot> roots;

 private:
  pid_t pid_;
};

RunningRoots& runningRoots() {
  static std::atomic<RunningRoots*> current{nullptr};
  return perProcess(current);
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
