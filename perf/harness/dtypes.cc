// Type facts and exact encode/decode for every harness data type. Small-float formats are
// handled by one generic routine parameterised by exponent and mantissa widths.
#include "harness/dtypes.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace tutti::perf {
namespace {

struct TypeInfo {
  const char* name;
  size_t size;
  bool isFloat;
  bool isSigned;
  int mantissa;  // including the implicit bit for floats
};

const TypeInfo kTypes[kNumDataTypes] = {
    {"int8", 1, false, true, 7},    {"uint8", 1, false, false, 8},
    {"int32", 4, false, true, 31},  {"uint32", 4, false, false, 32},
    {"int64", 8, false, true, 63},  {"uint64", 8, false, false, 64},
    {"half", 2, true, true, 11},    {"float", 4, true, true, 24},
    {"double", 8, true, true, 53},  {"bfloat16", 2, true, true, 8},
    {"fp8_e4m3", 1, true, true, 4}, {"fp8_e5m2", 1, true, true, 3},
};

const TypeInfo& info(DataType t) { return kTypes[static_cast<int>(t)]; }

// A binary floating-point format narrower than float: sign, `expBits`, `manBits` (explicit).
struct SmallFloat {
  int expBits;
  int manBits;
  int bias;
  bool hasInf;       // IEEE-like (inf and NaN at the top exponent); false: e4m3 (only NaN)
  uint32_t maxBits;  // bit pattern (without sign) of the largest finite value
};

const SmallFloat kHalfFmt = {5, 10, 15, true, 0x7bff};
const SmallFloat kBf16Fmt = {8, 7, 127, true, 0x7f7f};
const SmallFloat kE4M3Fmt = {4, 3, 7, false, 0x7e};
const SmallFloat kE5M2Fmt = {5, 2, 15, true, 0x7b};

double decodeSmall(const SmallFloat& f, uint32_t bits) {
  int total = 1 + f.expBits + f.manBits;
  bool neg = (bits >> (total - 1)) & 1u;
  uint32_t mag = bits & ((1u << (total - 1)) - 1u);
  uint32_t exp = mag >> f.manBits;
  uint32_t man = mag & ((1u << f.manBits) - 1u);
  uint32_t expMax = (1u << f.expBits) - 1u;
  double v;
  if (f.hasInf && exp == expMax) {
    v = man ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (!f.hasInf && mag == (1u << (total - 1)) - 1u) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (exp == 0) {
    v = std::ldexp(static_cast<double>(man), 1 - f.bias - f.manBits);
  } else {
    v = std::ldexp(static_cast<double>(man | (1u << f.manBits)),
                   static_cast<int>(exp) - f.bias - f.manBits);
  }
  return neg ? -v : v;
}

uint32_t encodeSmall(const SmallFloat& f, double v) {
  int total = 1 + f.expBits + f.manBits;
  uint32_t sign = std::signbit(v) ? (1u << (total - 1)) : 0u;
  double a = std::fabs(v);
  uint32_t expMax = (1u << f.expBits) - 1u;
  if (std::isnan(a)) {
    return sign | (f.hasInf ? ((expMax << f.manBits) | (1u << (f.manBits - 1)))
                            : ((1u << (total - 1)) - 1u));
  }
  if (a == 0) return sign;
  double maxFinite = decodeSmall(f, f.maxBits);
  if (std::isinf(a)) return sign | (f.hasInf ? (expMax << f.manBits) : f.maxBits);
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1): unbiased exponent is e - 1
  int minExp = 1 - f.bias;
  int exp = e - 1 < minExp ? minExp : e - 1;
  double quantum = std::ldexp(1.0, exp - f.manBits);
  double q = std::nearbyint(a / quantum);  // default rounding mode: nearest, ties to even
  double rounded = q * quantum;
  if (rounded > maxFinite) {
    // IEEE formats with infinity round overflow past the midpoint to inf; fp8 saturates.
    bool isIeee = f.hasInf && f.manBits >= 7;
    double nextUp = maxFinite + std::ldexp(1.0, static_cast<int>(std::log2(maxFinite)) - f.manBits);
    if (isIeee && a >= (maxFinite + nextUp) / 2) return sign | (expMax << f.manBits);
    return sign | f.maxBits;
  }
  // Rebuild the bit pattern from the rounded value.
  if (rounded < std::ldexp(1.0, minExp)) {
    return sign | static_cast<uint32_t>(rounded / std::ldexp(1.0, minExp - f.manBits));
  }
  std::frexp(rounded, &e);
  uint32_t biased = static_cast<uint32_t>(e - 1 + f.bias);
  uint32_t man =
      static_cast<uint32_t>(std::ldexp(rounded, f.manBits - (e - 1))) & ((1u << f.manBits) - 1u);
  return sign | (biased << f.manBits) | man;
}

const SmallFloat* smallFormat(DataType t) {
  switch (t) {
    case DataType::kHalf: return &kHalfFmt;
    case DataType::kBfloat16: return &kBf16Fmt;
    case DataType::kFp8E4M3: return &kE4M3Fmt;
    case DataType::kFp8E5M2: return &kE5M2Fmt;
    default: return nullptr;
  }
}

// Truncates toward zero and wraps modulo 2^64 (NaN and inf give 0); callers keep the low bits.
uint64_t wrapInteger(double v) {
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(v);
  if (std::fabs(t) < 9223372036854775808.0)  // 2^63: exact through int64
    return static_cast<uint64_t>(static_cast<int64_t>(t));
  double m = std::fmod(t, 18446744073709551616.0);  // |t| >= 2^63 is a multiple of 2^11
  if (m < 0) m += 18446744073709551616.0;
  return m >= 18446744073709551616.0 ? 0 : static_cast<uint64_t>(m);
}

}  // namespace

size_t typeSize(DataType t) { return info(t).size; }
const char* typeName(DataType t) { return info(t).name; }
bool isFloatType(DataType t) { return info(t).isFloat; }
bool isSignedType(DataType t) { return info(t).isSigned; }
int mantissaBits(DataType t) { return info(t).mantissa; }

const char* opName(RedOp op) {
  static const char* names[kNumRedOps] = {"sum", "prod", "max", "min", "avg"};
  return names[static_cast<int>(op)];
}

double exactIntegerLimit(DataType t) {
  int bits = info(t).mantissa;
  if (bits > 53) bits = 53;
  if (isFloatType(t)) return std::ldexp(1.0, bits);
  return std::ldexp(1.0, bits) - 1;
}

double smallestPositive(DataType t) {
  switch (t) {
    case DataType::kFloat: return std::numeric_limits<float>::denorm_min();
    case DataType::kDouble: return std::numeric_limits<double>::denorm_min();
    default: break;
  }
  const SmallFloat* f = smallFormat(t);
  return f ? std::ldexp(1.0, 1 - f->bias - f->manBits) : 1.0;
}

bool parseDataType(const std::string& name, DataType* out) {
  struct Alias {
    const char* name;
    DataType type;
  };
  static const Alias aliases[] = {
      {"int8", DataType::kInt8},        {"char", DataType::kInt8},
      {"uint8", DataType::kUint8},      {"int32", DataType::kInt32},
      {"int", DataType::kInt32},        {"uint32", DataType::kUint32},
      {"int64", DataType::kInt64},      {"uint64", DataType::kUint64},
      {"half", DataType::kHalf},        {"float16", DataType::kHalf},
      {"fp16", DataType::kHalf},        {"float", DataType::kFloat},
      {"float32", DataType::kFloat},    {"fp32", DataType::kFloat},
      {"double", DataType::kDouble},    {"float64", DataType::kDouble},
      {"fp64", DataType::kDouble},      {"bfloat16", DataType::kBfloat16},
      {"bf16", DataType::kBfloat16},    {"fp8_e4m3", DataType::kFp8E4M3},
      {"f8e4m3", DataType::kFp8E4M3},   {"e4m3", DataType::kFp8E4M3},
      {"fp8_e5m2", DataType::kFp8E5M2}, {"f8e5m2", DataType::kFp8E5M2},
      {"e5m2", DataType::kFp8E5M2},
  };
  for (const Alias& a : aliases) {
    if (name == a.name) {
      *out = a.type;
      return true;
    }
  }
  return false;
}

bool parseDataTypeList(const std::string& name, std::vector<DataType>* out) {
  out->clear();
  if (name == "all") {
    for (int i = 0; i < kNumDataTypes; ++i) out->push_back(static_cast<DataType>(i));
    return true;
  }
  DataType t;
  if (!parseDataType(name, &t)) return false;
  out->push_back(t);
  return true;
}

bool parseRedOp(const std::string& name, RedOp* out) {
  for (int i = 0; i < kNumRedOps; ++i) {
    if (name == opName(static_cast<RedOp>(i))) {
      *out = static_cast<RedOp>(i);
      return true;
    }
  }
  return false;
}

bool parseRedOpList(const std::string& name, std::vector<RedOp>* out) {
  out->clear();
  if (name == "all") {
    for (int i = 0; i < kNumRedOps; ++i) out->push_back(static_cast<RedOp>(i));
    return true;
  }
  RedOp op;
  if (!parseRedOp(name, &op)) return false;
  out->push_back(op);
  return true;
}

void encodeValue(DataType t, double v, void* dst) {
  switch (t) {
    case DataType::kFloat: {
      float f = static_cast<float>(v);
      memcpy(dst, &f, 4);
      return;
    }
    case DataType::kDouble: memcpy(dst, &v, 8); return;
    case DataType::kHalf:
    case DataType::kBfloat16: {
      uint16_t b = static_cast<uint16_t>(encodeSmall(*smallFormat(t), v));
      memcpy(dst, &b, 2);
      return;
    }
    case DataType::kFp8E4M3:
    case DataType::kFp8E5M2:
      *static_cast<uint8_t*>(dst) = static_cast<uint8_t>(encodeSmall(*smallFormat(t), v));
      return;
    default: break;
  }
  uint64_t w = wrapInteger(v);
  switch (typeSize(t)) {
    case 1: *static_cast<uint8_t*>(dst) = static_cast<uint8_t>(w); return;
    case 4: {
      uint32_t x = static_cast<uint32_t>(w);
      memcpy(dst, &x, 4);
      return;
    }
    default: memcpy(dst, &w, 8); return;
  }
}

double decodeValue(DataType t, const void* src) {
  switch (t) {
    case DataType::kInt8: return *static_cast<const int8_t*>(src);
    case DataType::kUint8: return *static_cast<const uint8_t*>(src);
    case DataType::kInt32: {
      int32_t x;
      memcpy(&x, src, 4);
      return x;
    }
    case DataType::kUint32: {
      uint32_t x;
      memcpy(&x, src, 4);
      return x;
    }
    case DataType::kInt64: {
      int64_t x;
      memcpy(&x, src, 8);
      return static_cast<double>(x);
    }
    case DataType::kUint64: {
      uint64_t x;
      memcpy(&x, src, 8);
      return static_cast<double>(x);
    }
    case DataType::kFloat: {
      float x;
      memcpy(&x, src, 4);
      return x;
    }
    case DataType::kDouble: {
      double x;
      memcpy(&x, src, 8);
      return x;
    }
    case DataType::kHalf:
    case DataType::kBfloat16: {
      uint16_t b;
      memcpy(&b, src, 2);
      return decodeSmall(*smallFormat(t), b);
    }
    case DataType::kFp8E4M3:
    case DataType::kFp8E5M2: return decodeSmall(*smallFormat(t), *static_cast<const uint8_t*>(src));
  }
  return 0;
}

}  // namespace tutti::perf
