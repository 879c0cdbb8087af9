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
};

}  // namespace tutti
