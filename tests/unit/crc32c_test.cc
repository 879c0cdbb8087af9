// CRC32C: the standard check value, hardware and software agree on random data at every
// length and alignment, and a running CRC over pieces equals the CRC of the whole.
#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tutti {
namespace {

TEST(Crc32c, CheckValue) {
  const char* s = "123456789";
  EXPECT_EQ(crc32c(0, s, 9), 0xE3069283u);
  EXPECT_EQ(crc32cSoftware(0, s, 9), 0xE3069283u);
  EXPECT_EQ(crc32c(0, s, 0), 0u);
}

TEST(Crc32c, HardwareMatchesSoftwareAndPiecesMatchWhole) {
  std::mt19937_64 rng(1313);
  std::vector<unsigned char> buf(4099);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (size_t off = 0; off < 9; ++off)
    for (size_t len :
         {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{63}, size_t{1001}, buf.size() - 9}) {
      const uint32_t whole = crc32cSoftware(0, buf.data() + off, len);
      EXPECT_EQ(crc32c(0, buf.data() + off, len), whole) << off << " " << len;
      const size_t cut = len / 3;
      uint32_t c = crc32c(0, buf.data() + off, cut);
      c = crc32c(c, buf.data() + off + cut, len - cut);
      EXPECT_EQ(c, whole) << off << " " << len;
    }
  // One flipped bit changes the CRC.
  const uint32_t before = crc32c(0, buf.data(), buf.size());
  buf[777] ^= 4;
  EXPECT_NE(crc32c(0, buf.data(), buf.size()), before);
}

}  // namespace
}  // namespace tutti
