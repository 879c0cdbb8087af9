// Memory for a connection's staging rings, and when to map it. Left to fault in page by page as
// a stream first wraps, a ring costs each of a job's first few hundred mid-size calls 100-300 us
// (UCX on the 2-CPU VM, perf/NOTES.md 2026-12-05), so rings are zeroed when they are made. But
// every peer is connected at init: a rank whose rings would total more than 1 GiB (over a
// hundred peers on other hosts) leaves them to fault in as used, and so holds memory only for
// the peers it talks to.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>

namespace tutti {

// True when a rank's rings, `bytes` over all of its connections, are zeroed when made.
inline bool mapRingsAtInit(size_t bytes) { return bytes <= (size_t{1} << 30); }

// A ring of `bytes`, zeroed (every page mapped) when `mapNow`.
inline std::unique_ptr<char[]> newRing(size_t bytes, bool mapNow) {
  std::unique_ptr<char[]> ring(new char[bytes]);
  if (mapNow) memset(ring.get(), 0, bytes);
  return ring;
}

}  // namespace tutti
