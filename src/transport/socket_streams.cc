#include "transport/socket_streams.h"

#include <stdlib.h>

#include <string>

#include "base/env.h"
#include "transport/peer_threads.h"
#include "transport/socket_transport.h"

namespace tutti {

Result readSocketStreamsAsk(int autoStreams, SocketStreamsAsk* out) {
  *out = SocketStreamsAsk{autoStreams, 0};
  const std::string v = envString("TUTTI_SOCKET_STREAMS");
  if (v.empty() || v == "auto") return tuttiSuccess;
  char* end = nullptr;
  const long n = strtol(v.c_str(), &end, 10);
  if (*end != '\0' || n < 1 || n > kMaxSocketStreams)
    return setError(tuttiInvalidArgument, "TUTTI_SOCKET_STREAMS=%s: expected 1..%d or auto",
                    v.c_str(), kMaxSocketStreams);
  *out = SocketStreamsAsk{static_cast<int32_t>(n), 1};
  return tuttiSuccess;
}

Result agreeSocketStreams(const std::vector<SocketStreamsAsk>& asks, int* streams) {
  std::vector<CountAsk> counts;
  for (size_t r = 0; r < asks.size(); ++r) {
    const SocketStreamsAsk& a = asks[r];
    // From the network: a count past the bound would have every rank open that many sockets.
    if (a.streams < 1 || a.streams > kMaxSocketStreams || (a.set != 0 && a.set != 1))
      return setError(tuttiRemoteError,
                      "rank %zu sent a socket stream count of %d (expected 1..%d)", r, a.streams,
                      kMaxSocketStreams);
    counts.push_back({a.streams, a.set != 0});
  }
  const CountAgreement c = agreeCount(counts);
  if (c.differs >= 0)
    return setError(tuttiInvalidArgument,
                    "socket striping differs between ranks: rank %d has TUTTI_SOCKET_STREAMS=%d, "
                    "rank %d has TUTTI_SOCKET_STREAMS=%d (set it alike everywhere, or nowhere)",
                    c.setBy, counts[static_cast<size_t>(c.setBy)].count, c.differs,
                    counts[static_cast<size_t>(c.differs)].count);
  *streams = c.count;
  return tuttiSuccess;
}

}  // namespace tutti
