// A socket connection striped over several TCP streams, each moved by its own sender and
// receiver thread (TUTTI_SOCKET_STREAMS > 1): one stream and the executor's own thread cap a
// peer at what a single TCP flow and a single CPU move, well below what a host's network (or
// its kernel's several cores) carries. The executor sees the same in-place byte stream as the
// single-socket connection; only the threads touch the sockets.
#pragma once

#include <memory>
#include <vector>

#include "bootstrap/socket.h"
#include "transport/connection.h"

namespace tutti {

// The byte stream is cut into chunks of `chunkBytes`; chunk k travels on stream k % N, so both
// sides find every byte's stream without headers (and must agree on N and the chunk size: the
// transport's handshake checks it). Takes N >= 1 connected, authenticated sockets to `peer`.
// Payloads from `directMinBytes` on (0: never) move between the caller's memory and the
// sockets on the stream threads, without the ring copy. `mapAtInit`: the rings are zeroed when
// made (transport/ring_memory.h).
Result makeStripedSocketConnection(std::vector<Socket> socks, int peer, size_t stagingBytes,
                                   size_t chunkBytes, std::unique_ptr<Connection>* out,
                                   size_t directMinBytes = 0, bool mapAtInit = true);

// Where stripe `stripe` of `stripes` puts its `done`-th byte in the stream (chunks of `chunk`).
inline uint64_t stripeStreamOffset(uint64_t done, int stripe, int stripes, uint64_t chunk) {
  return (done / chunk * static_cast<uint64_t>(stripes) + static_cast<uint64_t>(stripe)) * chunk +
         done % chunk;
}

}  // namespace tutti
