// The transport factory: the registered transport types in priority order, and the one loop
// that gives every peer a connection. Adding a transport is one line in transport_factory.cc.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "transport/transport.h"

namespace tutti {

// One rank's connections: the transport types it opened, a byte stream per peer, and which
// type carries each peer.
struct PeerConnections {
  std::vector<std::unique_ptr<Transport>> types;   // every registered type, priority order
  std::vector<bool> allowed;                       // by type: TUTTI_TRANSPORT permits it
  std::vector<std::unique_ptr<Connection>> conns;  // by rank; null for self
  std::vector<int> typeOf;                         // by rank: index into types, -1 for self

  Connection* to(int peer) const { return conns[peer].get(); }
  const char* typeName(int peer) const;
  // Tells every peer this rank failed, so their waits end now rather than at the timeout.
  void markFailed();
  // Ends every direct transfer still open (Connection::abandonDirect): after a failed call no
  // transport touches the caller's buffers.
  void abandonDirect() const;
};

// Creates every registered transport type; TUTTI_TRANSPORT=<name> limits the choice to one (a
// name that is not registered is an error listing those that are).
Result createTransports(PeerConnections* out);
// Before the peer exchange: each type fills what peers need to reach this rank.
Result prepareTransports(const TransportContext& ctx, PeerConnections* pc, PeerInfo* self);
// After the peer exchange, collective: picks the first type that can connect each pair,
// checks that every rank picked the same type for every pair (a disagreement fails init on
// every rank, naming both sides), connects each type's peers (types in registration order;
// one that no pair uses is skipped on every rank), and logs the choice per peer at INFO.
Result connectTransports(const TransportContext& ctx, PeerConnections* pc);

}  // namespace tutti
