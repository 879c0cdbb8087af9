// Open-file descriptors for connections: the socket transport takes one per stream and peer,
// UCX over TCP about two per peer, the rendezvous root one per rank while it gathers them. A
// job of a thousand ranks needs more than the soft RLIMIT_NOFILE most systems start a process
// with (1024). A process raises its soft limit as far as its connections need (never past the
// hard limit, nor further: select() breaks past 1024), and for the sockets a rank that cannot
// fit them fails every rank's init at once, naming itself and its limits, instead of one rank
// reading "Too many open files" and the others timing out.
#pragma once

#include <cstdint>
#include <vector>

#include "base/error.h"

namespace tutti {

// Descriptors left for everything but the counted connections: the listener's strangers while
// it admits (transport/socket_transport.cc), shared memory, UCX's own, the application's.
constexpr int64_t kFdReserve = 64;

// What a rank tells the others (bootstrap all-gather): how many descriptors its connections
// will open, how many it has open, and its hard limit. It fits when open + need + kFdReserve
// stay within the hard limit (its soft one it raises itself: raiseFdLimit).
struct FdAsk {
  int64_t need;
  int64_t open;
  int64_t hard;  // -1: unlimited
};

// This process now: descriptors open (/proc/self/fd) and its hard limit.
FdAsk fdAskHere(int64_t need);

// Every rank, on the same asks: the first rank that cannot fit its need is an error naming it,
// a system error on that rank and a remote one on the others. `what` names the connections
// ("socket connections"); `remedy` is "" or "; or ...", a way to need fewer. An ask that cannot
// be (negative counts: it came over the network) is a remote error.
Result agreeFdBudget(const std::vector<FdAsk>& asks, int self, const char* what,
                     const char* remedy);

// Raises this process's soft RLIMIT_NOFILE to cover `ask.need` more descriptors and kFdReserve
// beyond the `ask.open` open (fdAskHere), up to the hard limit (INFO when it does). Past the
// hard limit it leaves the soft one at the hard one: opening then fails with the system's own
// error.
void raiseFdLimit(const FdAsk& ask, const char* what);

}  // namespace tutti
