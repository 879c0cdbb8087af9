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

// What `auto` (and unset) asks for: a stream per two CPUs of each local rank's share, at most
// 4; 1 past 8 peers on other hosts, and 1 on 2 CPUs.
int autoSocketStreams(int cpus, int localRanks, int remotePeers);
// This rank's ask from TUTTI_SOCKET_STREAMS (a count 1..kMaxSocketStreams, `auto` or unset:
// `autoStreams`). An invalid value is an error naming the variable.
Result readSocketStreamsAsk(int autoStreams, SocketStreamsAsk* out);
// The count any rank set (all that set one must agree), else the smallest ask.
Result agreeSocketStreams(const std::vector<SocketStreamsAsk>& asks, int* streams);

}  // namespace tutti
