// One peer's byte stream dealt over several UCX workers (TUTTI_UCX_WORKERS > 1): each part is
// an ordinary UCX stream (UcxConnection) on a worker of its own, driven by a thread of its own.
// One worker on one thread caps a peer at what that thread moves through UCX (over TCP, the
// socket calls; perf/NOTES.md, 2026-12-03), the limit striped sockets lift with a thread per
// stream. The executor sees one in-place byte stream, as with one worker.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "transport/connection.h"

namespace tutti {

// The stream is cut into stripes of `stripeBytes` (a multiple of kAlign); stripe k travels on
// part k % N, so both sides find every byte's part without headers (they must agree on N and
// the stripe size: the transport's exchange checks it). Takes N >= 2 open streams to one peer,
// each on its own worker.
std::unique_ptr<Connection> makeStripedUcxConnection(std::vector<std::unique_ptr<Connection>> parts,
                                                     size_t stripeBytes);

}  // namespace tutti
