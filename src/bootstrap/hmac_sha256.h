// SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104) for the bootstrap's challenge-response:
// ranks prove they hold the unique id's secret without sending it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tutti {

using Digest = std::array<uint8_t, 32>;

Digest sha256(const void* data, size_t bytes);
Digest hmacSha256(const void* key, size_t keyBytes, const void* msg, size_t msgBytes);
// Constant-time comparison, so a forger learns nothing from response timing.
bool digestEqual(const Digest& a, const Digest& b);

}  // namespace tutti
