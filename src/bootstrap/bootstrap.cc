// Rank side of the bootstrap: rendezvous, ring connection and ring all-gather.
#include "bootstrap/bootstrap.h"

#include <poll.h>
#include <string.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/logging.h"
#include "bootstrap/auth_listener.h"
#include "bootstrap/bootstrap_messages.h"
#include "bootstrap/handshake.h"
#include "bootstrap/interface_list.h"
#include "bootstrap/packed_address.h"
#include "bootstrap/rendezvous_root.h"

namespace tutti {
namespace {
// How long a rank whose ring connection failed waits, after its report, for the root's word of
// an earlier failure (its successor's, say); the root closes at once when ours was the first.
constexpr int kFirstFailureWaitMs = 1000;
}  // namespace

Result Bootstrap::create(const tuttiUniqueId& id, int rank, int nranks,
                         const BootstrapOptions& options, std::unique_ptr<Bootstrap>* out) {
  UniqueIdData data;
  TUTTI_TRY(decodeUniqueId(id, &data));
  std::unique_ptr<Bootstrap> b(new Bootstrap(rank, nranks, options));
  if (rank == 0 && data.rootByRank0) {
    Socket rootListener;
    TUTTI_CHECK(Socket::listen(uniqueIdAddress(data), &rootListener),
                "rank 0 starting the rendezvous root on TUTTI_COMM_ID");
    startRendezvousRoot(std::move(rootListener), data.secret, options.timeoutMs);
  }
  Result r = b->listenForRing();
  if (r != tuttiSuccess) {
    const std::string why = lastError();
    sendWithdrawal(data, rank, nranks, options, why);
    return setError(r, "%s", why.c_str());
  }
  std::vector<SocketAddress> table;
  r = b->rendezvous(data, &table);
  if (r != tuttiSuccess) {
    addErrorContext("rendezvous with root %s", uniqueIdAddress(data).toString().c_str());
  } else if ((r = b->connectRing(data, table)) != tuttiSuccess) {
    addErrorContext("connecting the bootstrap ring");
  }
  if (r != tuttiSuccess) {
    // A process that hosts the root stays until the root has answered every rank, or its exit
    // would cut them off: ranks still on their way when another withdrew, or still waiting for
    // the table while this one, served first, already failed to connect the ring.
    waitForLocalRendezvousRoot(data.secret, b->deadline());
    return r;
  }
  *out = std::move(b);
  return tuttiSuccess;
}

void Bootstrap::withdraw(const tuttiUniqueId& id, int rank, int nranks,
                         const BootstrapOptions& options, const std::string& why) {
  const std::string mine = lastError();
  UniqueIdData data;
  if (decodeUniqueId(id, &data) == tuttiSuccess) {
    Socket rootListener;
    if (rank == 0 && data.rootByRank0 &&
        Socket::listen(uniqueIdAddress(data), &rootListener) == tuttiSuccess)
      startRendezvousRoot(std::move(rootListener), data.secret, options.timeoutMs);
    sendWithdrawal(data, rank, nranks, options, why);
  }
  (void)setError(tuttiSuccess, "%s", mine.c_str());  // the caller's error, not ours
}

// The ring listener uses the interface peers can reach (same selection as the root).
Result Bootstrap::listenForRing() {
  SocketAddress local;
  std::string ifname;
  TUTTI_CHECK(selectInterfaceAddress(&local, &ifname), "choosing the bootstrap interface");
  TUTTI_TRY(Socket::listen(local, &listener_));
  TUTTI_TRY(listener_.localAddress(&ringAddress_));
  TUTTI_INFO("rank %d: bootstrap on %s (%s)", rank_, ifname.c_str(),
             ringAddress_.toString().c_str());
  return tuttiSuccess;
}

void Bootstrap::sendWithdrawal(const UniqueIdData& id, int rank, int nranks,
                               const BootstrapOptions& options, const std::string& why) {
  const Deadline dl = Deadline::afterMs(options.timeoutMs);
  Socket root;
  Result r = Socket::connect(uniqueIdAddress(id), dl, options.abort, &root);
  if (r == tuttiSuccess) r = handshakeClient(root, id.secret, dl, options.abort);
  std::vector<char> msg(sizeof(RankAnnounce) + kReasonBytes, 0);
  RankAnnounce a{};
  a.magic = kWithdrawMagic;
  a.rank = rank;
  a.nranks = nranks;
  memcpy(msg.data(), &a, sizeof(a));
  snprintf(msg.data() + sizeof(a), kReasonBytes, "%s", why.c_str());
  if (r == tuttiSuccess) r = root.sendAll(msg.data(), msg.size(), dl, options.abort);
  // The root answers once it has told the ranks that joined; later ones hear it as they come.
  TableHeader h;
  if (r == tuttiSuccess) r = root.recvAll(&h, sizeof(h), dl, options.abort);
  if (r == tuttiSuccess) {
    TUTTI_INFO("rank %d: told the rendezvous root %s that it cannot join", rank,
               uniqueIdAddress(id).toString().c_str());
    waitForLocalRendezvousRoot(id.secret, dl);
  } else {
    TUTTI_WARN(
        "rank %d: could not tell the rendezvous root %s that it cannot join (%s); the "
        "other ranks fail at their timeout",
        rank, uniqueIdAddress(id).toString().c_str(), lastError().c_str());
  }
}

Result Bootstrap::rendezvous(const UniqueIdData& id, std::vector<SocketAddress>* table) {
  Deadline dl = deadline();
  TUTTI_TRY(Socket::connect(uniqueIdAddress(id), dl, options_.abort, &root_));
  TUTTI_TRY(handshakeClient(root_, id.secret, dl, options_.abort));
  RankAnnounce a{};
  a.magic = kAnnounceMagic;
  a.rank = rank_;
  a.nranks = nranks_;
  a.ringAddress = packAddress(ringAddress_);
  TUTTI_TRY(root_.sendAll(&a, sizeof(a), dl, options_.abort));
  TableHeader h;
  TUTTI_CHECK(root_.recvAll(&h, sizeof(h), dl, options_.abort), "waiting for all %d ranks to join",
              nranks_);
  TUTTI_TRY(checkTableHeader(&h, sizeof(h), rank_, nranks_));
  std::vector<PackedAddress> packed(nranks_);
  TUTTI_TRY(
      root_.recvAll(packed.data(), packed.size() * sizeof(PackedAddress), dl, options_.abort));
  TUTTI_TRY(unpackTable(packed.data(), packed.size() * sizeof(PackedAddress), nranks_, table));
  return tuttiSuccess;
}

Result Bootstrap::connectRing(const UniqueIdData& id, const std::vector<SocketAddress>& table) {
  if (nranks_ == 1) return tuttiSuccess;
  Deadline dl = deadline();
  const int prev = (rank_ - 1 + nranks_) % nranks_;
  // Accept the predecessor on a helper thread while we connect to the successor: in a ring
  // every rank is a client and a server at once, and doing both in sequence deadlocks.
  Result acceptResult = tuttiSuccess;
  std::string acceptError;
  std::atomic<bool> stopAccepting{false}, accepted{false};
  std::thread acceptor([&] {
    acceptResult = acceptPredecessor(id, prev, dl, stopAccepting);
    if (acceptResult != tuttiSuccess) acceptError = lastError();
    accepted = true;
  });
  const int next = (rank_ + 1) % nranks_;
  // Every rank listens before it announces itself, so a refusal now is final: the rank is gone,
  // or the address is not its own.
  Result r = Socket::connect(table[next], dl, options_.abort, &next_, false);
  if (r != tuttiSuccess)
    r = setError(r, "%s%s", lastError().c_str(), sameAddressHint(table[next], next).c_str());
  if (r == tuttiSuccess) r = handshakeClient(next_, id.secret, dl, options_.abort);
  int32_t me = rank_;
  if (r == tuttiSuccess) r = next_.sendAll(&me, sizeof(me), dl, options_.abort);
  if (r != tuttiSuccess) {
    const std::string err = lastError();
    stopAccepting = true;
    acceptor.join();
    r = setError(r, "connecting to rank %d at %s: %s", next, table[next].toString().c_str(),
                 err.c_str());
    // The successor may have failed first and left (a reset here): then the root answers our
    // report with its reason, which says more than ours; it just closes when ours was first.
    const std::string mine = lastError();
    reportRing(mine);
    const std::string first = rootFailure(kFirstFailureWaitMs);
    if (!first.empty())
      return setError(tuttiRemoteError, "%s (here: %s)", first.c_str(), mine.c_str());
    return setError(r, "%s", mine.c_str());
  }
  // While the predecessor is awaited, the root may say that a rank failed: it may be that one.
  // Once the root has spoken or left, the acceptor ends by itself (prev, timeout or abort).
  std::string rootSays;
  while (!accepted && rootSays.empty() && root_.valid()) rootSays = rootFailure(100);
  stopAccepting = !rootSays.empty();
  acceptor.join();
  if (!rootSays.empty() && !prev_.valid())
    return setError(tuttiRemoteError, "%s", rootSays.c_str());
  if (acceptResult != tuttiSuccess) {
    r = setError(acceptResult, "waiting for rank %d: %s", prev, acceptError.c_str());
    const std::string mine = lastError();
    reportRing(mine);
    root_.close();
    return setError(r, "%s", mine.c_str());
  }
  reportRing("");
  root_.close();
  listener_.close();
  return tuttiSuccess;
}

std::string Bootstrap::rootFailure(int waitMs) {
  if (!root_.valid()) return "";
  pollfd p{root_.fd(), POLLIN, 0};
  if (::poll(&p, 1, waitMs) <= 0) return "";
  std::string says;
  TableHeader h;
  if (root_.recvAll(&h, sizeof(h), Deadline::afterMs(1000), options_.abort) == tuttiSuccess &&
      checkTableHeader(&h, sizeof(h), rank_, nranks_) != tuttiSuccess)
    says = lastError();
  root_.close();  // anything else from the root, or its end, says nothing more about the ring
  return says;
}

void Bootstrap::reportRing(const std::string& failure) {
  if (!root_.valid()) return;
  RingReport rep{};
  rep.magic = kRingReportMagic;
  rep.rank = rank_;
  rep.failed = failure.empty() ? 0 : 1;
  snprintf(rep.reason, sizeof(rep.reason), "%s", failure.c_str());
  // The root reads reports as they come; a root that is gone costs nothing here.
  (void)root_.sendAll(&rep, sizeof(rep), Deadline::afterMs(1000), options_.abort);
}

// Strangers on the ring port are admitted like the root's: together, bounded in count and
// time, so that a few silent ones cannot hold the predecessor up.
Result Bootstrap::acceptPredecessor(const UniqueIdData& id, int prev, Deadline dl,
                                    const std::atomic<bool>& stop) {
  AuthListener admit(
      listener_, id.secret, AuthLimits::fromEnv(options_.timeoutMs), sizeof(int32_t), nullptr,
      "bootstrap rank " + std::to_string(rank_) + " ring listener " + ringAddress_.toString());
  Result r = admit.serveUntil(dl, options_.abort, &stop, [&](AuthConnection& c) {
    int32_t who;
    memcpy(&who, c.message.data(), sizeof(who));
    if (who == prev && !prev_.valid()) {
      prev_ = std::move(c.sock);
      return true;
    }
    admit.refusedMessage();
    TUTTI_WARN("%s: refused %s: it says it is rank %d, expected rank %d", admit.where().c_str(),
               c.peer.toString().c_str(), who, prev);
    return false;
  });
  admit.summarize();
  return r;
}

Result Bootstrap::allGather(void* data, size_t bytesPerRank) {
  if (nranks_ == 1) return tuttiSuccess;
  char* base = static_cast<char*>(data);
  Deadline dl = deadline();
  const uint32_t seq = ++sequence_;
  const int prev = (rank_ - 1 + nranks_) % nranks_, next = (rank_ + 1) % nranks_;
  for (int step = 0; step < nranks_ - 1; ++step) {
    // Names both neighbours: a rank that failed or exited closes the ring on the others.
    auto exchange = [&](const void* out, void* in, size_t bytes) {
      Result r = sendRecv(next_, out, bytes, prev_, in, bytes, dl, options_.abort);
      if (r != tuttiSuccess)
        addErrorContext("bootstrap all-gather step %d (from rank %d, to rank %d)", step, prev,
                        next);
      return r;
    };
    int sendSlot = (rank_ - step + nranks_) % nranks_;
    int recvSlot = (rank_ - step - 1 + nranks_) % nranks_;
    RingHeader out{kRingMagic, seq, bytesPerRank}, in{};
    TUTTI_TRY(exchange(&out, &in, sizeof(out)));
    TUTTI_TRY(checkRingHeader(&in, sizeof(in), seq, bytesPerRank, prev));
    TUTTI_TRY(
        exchange(base + sendSlot * bytesPerRank, base + recvSlot * bytesPerRank, bytesPerRank));
  }
  return tuttiSuccess;
}

Result Bootstrap::barrier() {
  std::vector<uint8_t> bytes(nranks_, 1);
  return allGather(bytes.data(), 1);
}

void Bootstrap::shutdown() {
  next_.shutdown();
  prev_.shutdown();
}

bool Bootstrap::neighbourClosed() {
  for (Socket* s : {&next_, &prev_}) {
    if (!s->valid()) continue;
    pollfd p{s->fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) continue;
    if (p.revents & (POLLHUP | POLLERR)) return true;
    char c;
    if (::recv(s->fd(), &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) return true;
  }
  return false;
}

}  // namespace tutti
