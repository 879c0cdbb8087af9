// The one default every wait falls back to: TUTTI_TIMEOUT_MS, else 5 minutes.
#pragma once

#include "base/env.h"

namespace tutti {

constexpr int kDefaultTimeoutMs = 300000;

inline int envTimeoutMs() {
  int64_t ms = envInt("TUTTI_TIMEOUT_MS", kDefaultTimeoutMs);
  return ms > 0 && ms < (1ll << 30) ? static_cast<int>(ms) : kDefaultTimeoutMs;
}

}  // namespace tutti
