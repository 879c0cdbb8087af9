// SHA-256 and HMAC-SHA256 against the published test vectors (FIPS 180-4 examples,
// RFC 4231 test cases 1 and 2).
#include <gtest/gtest.h>

#include <string>

#include "bootstrap/hmac_sha256.h"

namespace tutti {
namespace {

std::string hex(const Digest& d) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s += k[b >> 4];
    s += k[b & 15];
  }
  return s;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(hex(sha256("", 0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc", 3)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(hex(sha256(two.data(), two.size())),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HmacSha256, Rfc4231) {
  std::string key(20, '\x0b');
  EXPECT_EQ(hex(hmacSha256(key.data(), key.size(), "Hi There", 8)),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  std::string msg = "what do ya want for nothing?";
  EXPECT_EQ(hex(hmacSha256("Jefe", 4, msg.data(), msg.size())),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, ConstantTimeCompare) {
  Digest a = sha256("x", 1), b = a;
  EXPECT_TRUE(digestEqual(a, b));
  b[31] ^= 1;
  EXPECT_FALSE(digestEqual(a, b));
}

}  // namespace
}  // namespace tutti
