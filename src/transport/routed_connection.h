// One peer's byte stream routed over several connections ("parts") by message length. One
// thread moving every byte caps a peer at what that thread moves: over TCP, its socket calls
// (perf/NOTES.md, 2026-12-03). Long messages are dealt in stripes over parts 1..N, which
// threads of their own move (UCX stripe workers, or the stream threads of striped sockets);
// short ones stay on part 0, which the caller progresses, since a hand-off between threads
// costs more than a short message takes. The executor sees one in-place byte stream, as with
// one connection.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "transport/connection.h"

namespace tutti {

// parts[0]: a stream to the peer that the caller progresses. parts[1..N] (N >= 1): streams
// moved by threads of their own. A message announced with at least `stripeMinBytes` is cut
// into stripes of `stripeBytes` (a multiple of kAlign), dealt in turn over parts 1..N; anything
// else travels on part 0. The direct paths go to the part that carries the bytes, within its
// stripe. Both ends must agree on N and both sizes (the transports' exchanges check it).
// `kind` names the transport in logs and errors.
std::unique_ptr<Connection> makeRoutedConnection(std::vector<std::unique_ptr<Connection>> parts,
                                                 size_t stripeBytes, size_t stripeMinBytes,
                                                 const char* kind);

}  // namespace tutti
