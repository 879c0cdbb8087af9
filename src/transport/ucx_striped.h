// One peer's byte stream dealt over several UCX workers (TUTTI_UCX_WORKERS > 1). One worker on
// one thread caps a peer at what that thread moves through UCX (over TCP, the socket calls;
// perf/NOTES.md, 2026-12-03), the limit striped sockets lift with a thread per stream. Long
// messages are striped over N workers, each driven by a thread of its own; short ones stay on
// one more worker that the caller progresses, since a hand-off between threads costs more than
// a short message takes. The executor sees one in-place byte stream, as with one worker.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "transport/connection.h"

namespace tutti {

// parts[0]: an ordinary UCX stream to the peer, progressed by the caller. parts[1..N] (N >= 1):
// streams on workers with driver threads. A message announced with at least `stripeMinBytes`
// is cut into stripes of `stripeBytes` (a multiple of kAlign), dealt in turn over parts 1..N;
// anything else travels on part 0. Both ends must agree on N and both sizes (the transport's
// exchange checks it).
std::unique_ptr<Connection> makeStripedUcxConnection(std::vector<std::unique_ptr<Connection>> parts,
                                                     size_t stripeBytes, size_t stripeMinBytes);

}  // namespace tutti
