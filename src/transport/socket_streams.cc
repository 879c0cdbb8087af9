#include "transport/socket_streams.h"

#include <stdlib.h>

#include <string>

#include "base/env.h"
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
  int set = -1, setBy = -1, least = kMaxSocketStreams;
  for (size_t p = 0; p < asks.size(); ++p) {
    const SocketStreamsAsk& a = asks[p];
    if (a.streams < least) least = a.streams;
    if (!a.set) continue;
    if (set >= 0 && a.streams != set)
      return setError(tuttiInvalidArgument,
                      "socket striping differs between ranks: rank %d has TUTTI_SOCKET_STREAMS=%d, "
                      "rank %zu has TUTTI_SOCKET_STREAMS=%d (set it alike everywhere, or nowhere)",
                      setBy, set, p, a.streams);
    set = a.streams;
    setBy = static_cast<int>(p);
  }
  *streams = set >= 0 ? set : (least < 1 ? 1 : least);
  return tuttiSuccess;
}

}  // namespace tutti
