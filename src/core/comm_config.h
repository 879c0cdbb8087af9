// A communicator's settings, fixed once it is built: identity, device, name, timeout, blocking
// mode, channel bounds and the secret of its unique id.
#pragma once

#include <cstdint>
#include <string>

namespace tutti {

struct CommConfig {
  int rank = 0;
  int nranks = 0;
  int device = -1;  // CUDA device, -1 for a host-only rank
  std::string name;
  int timeoutMs = 0;
  bool blocking = true;
  int minChannels = 1;
  int maxChannels = 0;  // 0: tuner default
  uint8_t secret[16] = {};
  // Node identity; 0: from the host (TUTTI_HOSTID, TUTTI_RANKS_PER_NODE). A split keeps its
  // parent's, so a child of an emulated node stays on that node.
  uint64_t hostHash = 0;
  // A communicator the library builds for itself (the node and rail parts of a hierarchical
  // GPU path): no TUTTI_ALGO / TUTTI_PROTO / TUTTI_TUNE, which name the user's choices, and no
  // init banner.
  bool internal = false;
};

}  // namespace tutti
