// Transport selection and connection for every peer pair.
#include "transport/transport_setup.h"

#include <string.h>

#include <thread>

#include "base/env.h"
#include "base/logging.h"
#include "bootstrap/handshake.h"
#include "core/comm.h"
#include "transport/shm_transport.h"
#include "transport/socket_transport.h"

namespace tutti {
namespace {

size_t alignUp(size_t x, size_t a) { return (x + a - 1) / a * a; }

Result connectShm(Comm* comm, const std::vector<int>& peers) {
  ShmFifoOptions opt;
  opt.capacity = alignUp(envBytes("TUTTI_SHM_FIFO_BYTES", 1u << 20), 4096);
  char name[64];
  snprintf(name, sizeof(name), "/tutti-%016llx", (unsigned long long)comm->peers[0].commNonce);
  opt.baseName = name;
  std::vector<void*> handles(comm->nranks, nullptr);
  Result r = tuttiSuccess;
  for (int p : peers)
    if ((r = createShmReceiveFifo(opt, comm->rank, p, &handles[p])) != tuttiSuccess) break;
  // Everyone must have created its FIFOs before anyone maps a peer's (and on failure we
  // still join the barrier so that the others fail cleanly rather than time out).
  int ok = r == tuttiSuccess, allOk = 1;
  std::string err = ok ? "" : lastError();
  std::vector<int> oks(comm->nranks);
  oks[comm->rank] = ok;
  TUTTI_CHECK(comm->bootstrap->allGather(oks.data(), sizeof(int)), "shm setup barrier");
  for (int v : oks) allOk &= v;
  for (int p : peers) {
    if (!allOk || r != tuttiSuccess) break;
    r = openShmConnection(opt, comm->rank, p, comm->peers[p].pid, handles[p], &comm->conns[p]);
    handles[p] = nullptr;
  }
  TUTTI_CHECK(comm->bootstrap->barrier(), "shm setup barrier");
  for (int p : peers) unlinkShmName(opt, p, comm->rank);
  for (int p : peers) releaseShmReceiveFifo(handles[p]);
  if (!ok) return setError(tuttiSystemError, "%s", err.c_str());
  if (!allOk) return setError(tuttiRemoteError, "a peer could not create its shared memory FIFOs");
  return r;
}

// Lower ranks accept, higher ranks connect; both sides authenticate with the comm secret.
Result connectSockets(Comm* comm, Socket& listener, const std::vector<int>& peers) {
  const size_t staging = alignUp(envBytes("TUTTI_SOCKET_STAGING_BYTES", 4u << 20), 4096);
  Deadline dl = Deadline::afterMs(comm->timeoutMs);
  int expectAccepts = 0;
  for (int p : peers) expectAccepts += p > comm->rank;
  std::vector<Socket> accepted(comm->nranks);
  Result acceptResult = tuttiSuccess;
  std::string acceptError;
  std::thread acceptor([&] {
    for (int got = 0; got < expectAccepts;) {
      Socket s;
      SocketAddress from;
      if ((acceptResult = listener.accept(dl, &comm->abortFlag, &s, &from)) != tuttiSuccess) break;
      int32_t who = -1;
      Result r = handshakeServer(s, comm->secret, dl, &comm->abortFlag);
      if (r == tuttiSuccess) r = s.recvAll(&who, sizeof(who), dl, &comm->abortFlag);
      if (r != tuttiSuccess || who <= comm->rank || who >= comm->nranks || accepted[who].valid()) {
        TUTTI_WARN("refused transport connection from %s (claims rank %d): %s",
                   from.toString().c_str(), who,
                   r != tuttiSuccess ? lastError().c_str() : "unexpected rank");
        continue;
      }
      accepted[who] = std::move(s);
      ++got;
    }
    if (acceptResult != tuttiSuccess) acceptError = lastError();
  });
  Result r = tuttiSuccess;
  for (int p : peers) {
    if (p > comm->rank) continue;
    SocketAddress addr;
    if (!unpackAddress(comm->peers[p].netAddress, &addr)) {
      r = setError(tuttiRemoteError, "rank %d advertised an invalid address", p);
      break;
    }
    Socket s;
    int32_t me = comm->rank;
    if ((r = Socket::connect(addr, dl, &comm->abortFlag, &s)) != tuttiSuccess ||
        (r = handshakeClient(s, comm->secret, dl, &comm->abortFlag)) != tuttiSuccess ||
        (r = s.sendAll(&me, sizeof(me), dl, &comm->abortFlag)) != tuttiSuccess) {
      addErrorContext("connecting to rank %d at %s", p, addr.toString().c_str());
      break;
    }
    if ((r = makeSocketConnection(std::move(s), p, staging, &comm->conns[p])) != tuttiSuccess)
      break;
  }
  if (r != tuttiSuccess) {
    std::string err = lastError();
    listener.shutdown();
    acceptor.join();
    return setError(r, "%s", err.c_str());
  }
  acceptor.join();
  if (acceptResult != tuttiSuccess)
    return setError(acceptResult, "accepting peers: %s", acceptError.c_str());
  for (int p : peers)
    if (p > comm->rank)
      TUTTI_TRY(makeSocketConnection(std::move(accepted[p]), p, staging, &comm->conns[p]));
  return tuttiSuccess;
}

}  // namespace

Result openTransportListener(Socket* listener, SocketAddress* address) {
  SocketAddress local;
  TUTTI_CHECK(selectInterfaceAddress(&local, nullptr), "choosing the transport interface");
  TUTTI_TRY(Socket::listen(local, listener));
  return listener->localAddress(address);
}

Result connectTransports(Comm* comm, Socket& listener) {
  comm->conns.clear();
  comm->conns.resize(comm->nranks);
  const bool forceSocket = envString("TUTTI_TRANSPORT") == "socket";
  std::vector<int> shmPeers, socketPeers;
  for (int p = 0; p < comm->nranks; ++p) {
    if (p == comm->rank) continue;
    bool sameHost = comm->peers[p].hostHash == comm->peers[comm->rank].hostHash;
    (sameHost && !forceSocket ? shmPeers : socketPeers).push_back(p);
  }
  // Every rank joins the shm barriers, even with no shm peer, so the collective calls match.
  TUTTI_CHECK(connectShm(comm, shmPeers), "connecting shared-memory peers");
  TUTTI_CHECK(connectSockets(comm, listener, socketPeers), "connecting socket peers");
  TUTTI_INFO("rank %d: %zu shm peers, %zu socket peers", comm->rank, shmPeers.size(),
             socketPeers.size());
  return tuttiSuccess;
}

}  // namespace tutti
