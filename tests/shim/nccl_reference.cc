// Reference element conversions and reductions for the shim tests.
#include "nccl_reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <type_traits>

namespace shimtest {
namespace {

// Decoders of the small float formats: sign, exponent bits, mantissa bits, bias.
struct FloatFormat {
  int expBits, mantBits, bias;
  bool hasInf;       // e4m3 has none: its all-ones exponent still holds finite values
  uint32_t maxCode;  // largest finite positive code
};
constexpr FloatFormat kHalf{5, 10, 15, true, 0x7bff};
constexpr FloatFormat kE4M3{4, 3, 7, false, 0x7e};
constexpr FloatFormat kE5M2{5, 2, 15, true, 0x7b};

double decode(const FloatFormat& f, uint32_t code) {
  const int bits = 1 + f.expBits + f.mantBits;
  const bool neg = (code >> (bits - 1)) & 1;
  const uint32_t e = (code >> f.mantBits) & ((1u << f.expBits) - 1);
  const uint32_t m = code & ((1u << f.mantBits) - 1);
  const uint32_t eMax = (1u << f.expBits) - 1;
  double v;
  if (e == eMax && f.hasInf)
    v = m ? NAN : INFINITY;
  else if (e == eMax && !f.hasInf && m == (1u << f.mantBits) - 1)
    v = NAN;  // e4m3 NaN
  else if (e == 0)
    v = std::ldexp(static_cast<double>(m), 1 - f.bias - f.mantBits);
  else
    v = std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -f.mantBits), int(e) - f.bias);
  return neg ? -v : v;
}

// Positive finite codes decode in increasing order, so nearest-even is a binary search.
uint32_t encode(const FloatFormat& f, double v) {
  const int bits = 1 + f.expBits + f.mantBits;
  const uint32_t sign = std::signbit(v) ? 1u << (bits - 1) : 0;
  const double a = std::fabs(v);
  const uint32_t maxCode = f.maxCode;
  if (a >= decode(f, maxCode)) return sign | maxCode;  // saturate (the tests never overflow)
  uint32_t lo = 0, hi = maxCode;                       // decode(lo) <= a < decode(hi)
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    (decode(f, mid) <= a ? lo : hi) = mid;
  }
  const double dl = a - decode(f, lo), dh = decode(f, hi) - a;
  const uint32_t pick = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
  return sign | pick;
}

double bf16Decode(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

uint16_t bf16Encode(double v) {
  float f = static_cast<float>(v);  // exact for the tests' values
  uint32_t u;
  memcpy(&u, &f, 4);
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

template <typename T>
T wrapInt(double v) {
  const double t = std::trunc(v);
  if constexpr (std::is_signed<T>::value) {
    return static_cast<T>(static_cast<int64_t>(t));
  } else {
    return static_cast<T>(t < 0 ? static_cast<uint64_t>(static_cast<int64_t>(t))
                                : static_cast<uint64_t>(t));
  }
}

}  // namespace

size_t typeSize(ncclDataType_t t) {
  switch (t) {
    case ncclInt8:
    case ncclUint8:
    case ncclFloat8e4m3:
    case ncclFloat8e5m2: return 1;
    case ncclFloat16:
    case ncclBfloat16: return 2;
    case ncclInt32:
    case ncclUint32:
    case ncclFloat32: return 4;
    default: return 8;
  }
}

const char* typeName(ncclDataType_t t) {
  static const char* names[] = {"int8",    "uint8",   "int32",   "uint32",   "int64",   "uint64",
                                "float16", "float32", "float64", "bfloat16", "fp8e4m3", "fp8e5m2"};
  return t >= 0 && t < ncclNumTypes ? names[t] : "?";
}

bool isFloat(ncclDataType_t t) { return t >= ncclFloat16; }

bool isUnsigned(ncclDataType_t t) { return t == ncclUint8 || t == ncclUint32 || t == ncclUint64; }

double load(ncclDataType_t t, const void* base, size_t i) {
  const char* p = static_cast<const char*>(base) + i * typeSize(t);
  switch (t) {
    case ncclInt8: return *reinterpret_cast<const int8_t*>(p);
    case ncclUint8: return *reinterpret_cast<const uint8_t*>(p);
    case ncclInt32: return *reinterpret_cast<const int32_t*>(p);
    case ncclUint32: return *reinterpret_cast<const uint32_t*>(p);
    case ncclInt64: return static_cast<double>(*reinterpret_cast<const int64_t*>(p));
    case ncclUint64: return static_cast<double>(*reinterpret_cast<const uint64_t*>(p));
    case ncclFloat16: return decode(kHalf, *reinterpret_cast<const uint16_t*>(p));
    case ncclFloat32: return *reinterpret_cast<const float*>(p);
    case ncclFloat64: return *reinterpret_cast<const double*>(p);
    case ncclBfloat16: return bf16Decode(*reinterpret_cast<const uint16_t*>(p));
    case ncclFloat8e4m3: return decode(kE4M3, *reinterpret_cast<const uint8_t*>(p));
    case ncclFloat8e5m2: return decode(kE5M2, *reinterpret_cast<const uint8_t*>(p));
    default: return NAN;
  }
}

void store(ncclDataType_t t, void* base, size_t i, double v) {
  char* p = static_cast<char*>(base) + i * typeSize(t);
  switch (t) {
    case ncclInt8: *reinterpret_cast<int8_t*>(p) = wrapInt<int8_t>(v); break;
    case ncclUint8: *reinterpret_cast<uint8_t*>(p) = wrapInt<uint8_t>(v); break;
    case ncclInt32: *reinterpret_cast<int32_t*>(p) = wrapInt<int32_t>(v); break;
    case ncclUint32: *reinterpret_cast<uint32_t*>(p) = wrapInt<uint32_t>(v); break;
    case ncclInt64: *reinterpret_cast<int64_t*>(p) = wrapInt<int64_t>(v); break;
    case ncclUint64: *reinterpret_cast<uint64_t*>(p) = wrapInt<uint64_t>(v); break;
    case ncclFloat16:
      *reinterpret_cast<uint16_t*>(p) = static_cast<uint16_t>(encode(kHalf, v));
      break;
    case ncclFloat32: *reinterpret_cast<float*>(p) = static_cast<float>(v); break;
    case ncclFloat64: *reinterpret_cast<double*>(p) = v; break;
    case ncclBfloat16: *reinterpret_cast<uint16_t*>(p) = bf16Encode(v); break;
    case ncclFloat8e4m3:
      *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(encode(kE4M3, v));
      break;
    case ncclFloat8e5m2:
      *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(encode(kE5M2, v));
      break;
    default: break;
  }
}

std::vector<char> makeInput(ncclDataType_t t, size_t count, uint64_t seed, int rank, bool forProd) {
  std::mt19937_64 gen(seed * 1000003u + static_cast<uint64_t>(rank) * 7919u + t);
  const bool small = forProd || t == ncclFloat8e4m3 || t == ncclFloat8e5m2;
  const int lo = isUnsigned(t) ? 0 : (small ? -2 : -4);
  const int hi = small ? 2 : 4;
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<char> out(count * typeSize(t));
  for (size_t i = 0; i < count; ++i) store(t, out.data(), i, dist(gen));
  return out;
}

double reduceRef(ncclDataType_t t, int op, const std::vector<std::vector<char>>& inputs, size_t i,
                 double scalar) {
  const int n = static_cast<int>(inputs.size());
  // PreMulSum rounds each scaled input to the type before summing, like NCCL.
  auto value = [&](int r) {
    double v = load(t, inputs[r].data(), i);
    if (op != ncclNumOps) return v;
    std::vector<char> tmp(typeSize(t));
    store(t, tmp.data(), 0, v * scalar);
    return load(t, tmp.data(), 0);
  };
  double acc = value(0);
  for (int r = 1; r < n; ++r) {
    const double v = value(r);
    switch (op) {
      case ncclProd: acc *= v; break;
      case ncclMax: acc = std::max(acc, v); break;
      case ncclMin: acc = std::min(acc, v); break;
      default: acc += v; break;  // sum, avg, PreMulSum
    }
  }
  if (op == ncclAvg) acc = isFloat(t) ? acc / n : std::trunc(acc / n);
  return acc;
}

std::string compare(ncclDataType_t t, const void* got, const std::vector<double>& want,
                    size_t count, bool approx) {
  // Relative tolerance of a float average: a few units in the last place of the type.
  double rel = 0;
  if (approx) {
    switch (t) {
      case ncclFloat16: rel = 2e-3; break;
      case ncclBfloat16: rel = 1.6e-2; break;
      case ncclFloat8e4m3: rel = 0.13; break;
      case ncclFloat8e5m2: rel = 0.26; break;
      case ncclFloat32: rel = 1e-6; break;
      case ncclFloat64: rel = 1e-12; break;
      default: break;
    }
  }
  std::vector<char> rounded(typeSize(t));
  for (size_t i = 0; i < count; ++i) {
    store(t, rounded.data(), 0, want[i]);
    const double w = load(t, rounded.data(), 0);
    const double g = load(t, got, i);
    const bool ok = rel == 0 ? g == w : std::fabs(g - want[i]) <= rel * std::fabs(want[i]) + 1e-30;
    if (!ok) {
      std::ostringstream os;
      os << typeName(t) << " element " << i << ": got " << g << ", expected " << w;
      return os.str();
    }
  }
  return "";
}

}  // namespace shimtest
