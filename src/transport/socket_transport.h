// TCP transport between hosts: a non-blocking socket per peer with staging rings on both
// sides, so it presents the same in-place stream as shared memory.
#pragma once

#include <memory>

#include "bootstrap/socket.h"
#include "transport/connection.h"
#include "transport/transport.h"

namespace tutti {

// Payloads from this size on skip the staging rings (TUTTI_SOCKET_DIRECT_BYTES; 0 turns it off).
constexpr size_t kDefaultDirectBytes = 1 << 20;
// TUTTI_SOCKET_STREAMS > 1: that many TCP streams per peer, each with a sender and a receiver
// thread, the stream cut into TUTTI_SOCKET_CHUNK_BYTES chunks dealt round-robin
// (transport/socket_striped.h); 1, the default, keeps one non-blocking socket moved by the
// executor's thread.
constexpr int kMaxSocketStreams = 16;
constexpr size_t kDefaultSocketChunkBytes = 128 << 10;
// With TUTTI_SOCKET_STREAMS > 1, messages from this length on go to the stream threads; shorter
// ones stay on a socket of the executor's own (TUTTI_SOCKET_STRIPE_MIN_BYTES; 0: none do).
constexpr size_t kDefaultStripeMinBytes = 1 << 20;
// The routed connection's stripe when one part carries every long message whole.
constexpr size_t kWholeMessageStripe = size_t{1} << 40;

// Takes an authenticated, connected socket to `peer`. `mapAtInit`: the rings are zeroed when made
// (transport/ring_memory.h).
Result makeSocketConnection(Socket sock, int peer, size_t stagingBytes,
                            std::unique_ptr<Connection>* out,
                            size_t directMinBytes = kDefaultDirectBytes, bool mapAtInit = true);

// The transport type: any two ranks (TUTTI_SOCKET_STAGING_BYTES per direction and peer). It
// listens in prepare(), on the interface TUTTI_SOCKET_IFNAME selects; lower ranks accept and
// higher ranks connect, both proving the communicator secret.
std::unique_ptr<Transport> makeSocketTransport();

}  // namespace tutti
