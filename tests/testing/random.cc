// Input generation for collective tests.
#include "testing/random.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "kernels/dtype_dispatch.h"

namespace tutti::testing {
namespace {

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

bool isFloat(tuttiDataType_t t) {
  return t == tuttiFloat16 || t == tuttiFloat32 || t == tuttiFloat64 || t == tuttiBfloat16 ||
         t == tuttiFp8E4M3 || t == tuttiFp8E5M2;
}
bool isSigned(tuttiDataType_t t) { return t == tuttiInt8 || t == tuttiInt32 || t == tuttiInt64; }

}  // namespace

uint64_t testSeed() {
  const char* s = getenv("TUTTI_TEST_SEED");
  return s ? strtoull(s, nullptr, 0) : 20261122ull;
}

void storeValue(void* buf, size_t i, tuttiDataType_t dtype, double v) {
  dispatchType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::Type;
    T* p = static_cast<T*>(buf) + i;
    if constexpr (std::is_same_v<T, Half>)
      *p = toHalf(static_cast<float>(v));
    else if constexpr (std::is_same_v<T, BFloat16>)
      *p = toBFloat16(static_cast<float>(v));
    else if constexpr (std::is_same_v<T, Fp8E4M3>)
      *p = toFp8E4M3(static_cast<float>(v));
    else if constexpr (std::is_same_v<T, Fp8E5M2>)
      *p = toFp8E5M2(static_cast<float>(v));
    else
      *p = static_cast<T>(v);
  });
}

double loadValue(const void* buf, size_t i, tuttiDataType_t dtype) {
  double out = 0;
  dispatchType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::Type;
    const T* p = static_cast<const T*>(buf) + i;
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16> ||
                  std::is_same_v<T, Fp8E4M3> || std::is_same_v<T, Fp8E5M2>)
      out = toFloat(*p);
    else
      out = static_cast<double>(*p);
  });
  return out;
}

double inputValue(uint64_t seed, int rank, size_t i, tuttiDataType_t dtype, tuttiRedOp_t op,
                  int nranks) {
  uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(rank) * 0x100000001b3ull + i + 1));
  double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
  double v;
  if (isFloat(dtype)) {
    if (op == tuttiProd) {
      v = 0.75 + 0.5 * u;  // products of many ranks stay near 1
      if (h & 1) v = -v;
    } else {
      v = 2.0 * u - 1.0;  // [-1, 1): sums stay small, signs mix
    }
  } else if (op == tuttiProd) {
    static const int choices[] = {1, 2, 3, -1, -2, 1, 1, -1};
    v = choices[h % 8];
    if (!isSigned(dtype)) v = std::fabs(v);
  } else {
    int64_t span = dtype == tuttiInt8 || dtype == tuttiUint8 ? 15 : 1000;
    v = static_cast<double>(static_cast<int64_t>(h % (2 * span + 1)) - span);
    if (!isSigned(dtype)) v = std::fabs(v);
  }
  // Round through the storage type so the value is exactly what the rank holds.
  uint64_t tmp = 0;
  storeValue(&tmp, 0, dtype, v);
  return loadValue(&tmp, 0, dtype);
}

void fillInput(void* buf, size_t count, uint64_t seed, int rank, tuttiDataType_t dtype,
               tuttiRedOp_t op, int nranks, size_t firstIndex) {
  for (size_t i = 0; i < count; ++i)
    storeValue(buf, i, dtype, inputValue(seed, rank, firstIndex + i, dtype, op, nranks));
}

}  // namespace tutti::testing
