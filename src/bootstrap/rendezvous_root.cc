// Rendezvous root thread: authenticated star exchange of the ranks' ring addresses.
#include "bootstrap/rendezvous_root.h"

#include <string.h>

#include <memory>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "bootstrap/handshake.h"

namespace tutti {
namespace {

constexpr int kPerConnectionMs = 10000;  // a silent connection cannot stall the root longer

struct RootState {
  Socket listener;
  uint8_t secret[kSecretBytes];
  int timeoutMs;
};

void refuse(Socket& s, const char* reason, Deadline deadline) {
  TableHeader h{};
  h.magic = kTableMagic;
  h.status = 1;
  snprintf(h.reason, sizeof(h.reason), "%s", reason);
  (void)s.sendAll(&h, sizeof(h), deadline);
}

void runRoot(std::unique_ptr<RootState> st) {
  Deadline deadline = Deadline::afterMs(st->timeoutMs);
  std::string where;
  SocketAddress local;
  if (st->listener.localAddress(&local) == tuttiSuccess) where = local.toString();
  int nranks = -1;
  std::vector<Socket> conns;
  std::vector<PackedAddress> table;
  int arrived = 0;
  while (nranks < 0 || arrived < nranks) {
    Socket conn;
    SocketAddress peer;
    if (st->listener.accept(deadline, nullptr, &conn, &peer) != tuttiSuccess) {
      TUTTI_WARN("rendezvous root %s: gave up with %d of %d ranks after %d ms: %s", where.c_str(),
                 arrived, nranks, st->timeoutMs, lastError().c_str());
      return;
    }
    Deadline connDeadline = Deadline::afterMs(kPerConnectionMs);
    if (handshakeServer(conn, st->secret, connDeadline, nullptr) != tuttiSuccess) {
      TUTTI_WARN("rendezvous root %s: rejected connection from %s: %s", where.c_str(),
                 peer.toString().c_str(), lastError().c_str());
      continue;
    }
    RankAnnounce a;
    if (conn.recvAll(&a, sizeof(a), connDeadline) != tuttiSuccess || a.magic != kAnnounceMagic) {
      TUTTI_WARN("rendezvous root %s: malformed announce from %s", where.c_str(),
                 peer.toString().c_str());
      continue;
    }
    char reason[128] = "";
    SocketAddress ring;
    if (a.nranks <= 0 || a.nranks > kMaxRanks) {
      snprintf(reason, sizeof(reason), "nranks %d is out of range 1..%d", a.nranks, kMaxRanks);
    } else if (nranks >= 0 && a.nranks != nranks) {
      snprintf(reason, sizeof(reason), "rank %d says nranks=%d but others said %d", a.rank,
               a.nranks, nranks);
    } else if (a.rank < 0 || a.rank >= a.nranks) {
      snprintf(reason, sizeof(reason), "rank %d is out of range 0..%d", a.rank, a.nranks - 1);
    } else if (!unpackAddress(a.ringAddress, &ring)) {
      snprintf(reason, sizeof(reason), "rank %d sent an invalid address", a.rank);
    } else if (nranks >= 0 && conns[a.rank].valid()) {
      snprintf(reason, sizeof(reason), "rank %d joined twice", a.rank);
    }
    if (reason[0]) {
      TUTTI_WARN("rendezvous root %s: refused %s: %s", where.c_str(), peer.toString().c_str(),
                 reason);
      refuse(conn, reason, connDeadline);
      continue;
    }
    if (nranks < 0) {
      nranks = a.nranks;
      conns.resize(nranks);
      table.resize(nranks);
    }
    table[a.rank] = a.ringAddress;
    conns[a.rank] = std::move(conn);
    ++arrived;
  }
  TableHeader h{};
  h.magic = kTableMagic;
  h.nranks = nranks;
  for (int r = 0; r < nranks; ++r) {
    Deadline d = Deadline::afterMs(kPerConnectionMs);
    if (conns[r].sendAll(&h, sizeof(h), d) != tuttiSuccess ||
        conns[r].sendAll(table.data(), table.size() * sizeof(PackedAddress), d) != tuttiSuccess)
      TUTTI_WARN("rendezvous root %s: rank %d left before receiving the table", where.c_str(), r);
  }
  TUTTI_INFO("rendezvous root %s: %d ranks connected", where.c_str(), nranks);
}

}  // namespace

void startRendezvousRoot(Socket listener, const uint8_t secret[kSecretBytes], int timeoutMs) {
  auto st = std::make_unique<RootState>();
  st->listener = std::move(listener);
  memcpy(st->secret, secret, kSecretBytes);
  st->timeoutMs = timeoutMs;
  std::thread(runRoot, std::move(st)).detach();
}

}  // namespace tutti
