// Connects a communicator to every peer at init: shared memory between ranks of one host,
// TCP sockets between hosts (TUTTI_TRANSPORT=socket forces sockets everywhere).
#pragma once

#include "base/error.h"
#include "bootstrap/socket.h"

struct tuttiComm;

namespace tutti {

// Opens the socket transport's listener before peer info is exchanged (its address travels
// in PeerInfo::netAddress).
Result openTransportListener(Socket* listener, SocketAddress* address);
// Fills comm->conns for every peer. Needs comm->peers and comm->bootstrap.
Result connectTransports(tuttiComm* comm, Socket& listener);

}  // namespace tutti
