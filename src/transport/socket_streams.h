// How many TCP streams each socket connection gets (TUTTI_SOCKET_STREAMS): what each rank asks
// for, from its variable and its host, and the one count every rank derives from all the asks
// (exchanged in the socket transport's connect), or the same error on every rank.
#pragma once

#include <cstdint>
#include <vector>

#include "base/error.h"

namespace tutti {

// One rank's ask; plain data, it travels in the bootstrap all-gather.
struct SocketStreamsAsk {
  int32_t streams;  // TUTTI_SOCKET_STREAMS, or what `auto` found
  int32_t set;      // 1: the variable was set to a count, which binds every rank
};

// This rank's ask from TUTTI_SOCKET_STREAMS (a count 1..kMaxSocketStreams, `auto` or unset:
// `autoStreams`, the transports' rule of transport/peer_threads.h). An invalid value is an error
// naming the variable.
Result readSocketStreamsAsk(int autoStreams, SocketStreamsAsk* out);
// The count any rank set (all that set one must agree), else the smallest ask. An ask out of
// range (it came over the network) is a remote error naming its rank.
Result agreeSocketStreams(const std::vector<SocketStreamsAsk>& asks, int* streams);

}  // namespace tutti
