// A transport type: one way two ranks can exchange bytes (shared memory, TCP sockets, UCX).
// The factory (transport_factory.h) tries the registered types in priority order for every
// peer; the first whose canConnect() says yes carries that pair, and every rank must reach the
// same answer. A type connects all of its peers at once, because setup is collective (shared
// memory needs barriers, sockets an accept loop, UCX an address exchange).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "bootstrap/peer_info.h"
#include "transport/connection.h"

namespace tutti {

class Bootstrap;

// What a transport may use while it connects: the peer table, the bootstrap for collective
// exchanges, the communicator secret for authentication, and the deadline and abort flag
// every wait honours. Transports never see the communicator itself.
struct TransportContext {
  int rank = 0;
  int nranks = 0;
  const std::vector<PeerInfo>* peers = nullptr;  // filled once the peer exchange is done
  Bootstrap* bootstrap = nullptr;
  const uint8_t* secret = nullptr;  // 16 bytes
  int timeoutMs = 0;
  const std::atomic<bool>* abort = nullptr;

  const PeerInfo& peer(int r) const { return (*peers)[r]; }
  bool sameHost(int a, int b) const { return peer(a).hostHash == peer(b).hostHash; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  // "shm", "socket", "ucx": the name TUTTI_TRANSPORT and the INFO lines use.
  virtual const char* name() const = 0;
  // Before the peer exchange: fills what peers need to reach this rank (a listening address).
  virtual Result prepare(const TransportContext& ctx, PeerInfo* self) { return tuttiSuccess; }
  // Whether this type can connect ranks a and b. Decided from the peer table and this
  // process's settings; the factory checks that both sides of every pair agree.
  virtual bool canConnect(const TransportContext& ctx, int a, int b) const = 0;
  // Collective: every rank calls it, with the peers this type carries for it (possibly none),
  // and it fills conns[p] for each. Every wait ends at the context's deadline or abort.
  virtual Result connect(const TransportContext& ctx, const std::vector<int>& peers,
                         std::vector<std::unique_ptr<Connection>>* conns) = 0;
  // What the INFO line adds after the name: the interface or device it uses, when known.
  virtual std::string describe() const { return ""; }
};

}  // namespace tutti
