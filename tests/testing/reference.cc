// Reference reductions and tolerances.
#include "testing/reference.h"

#include <cmath>
#include <cstdint>
#include <sstream>

#include "kernels/dtype_dispatch.h"

namespace tutti::testing {

bool isFloatType(tuttiDataType_t t) {
  return t == tuttiFloat16 || t == tuttiFloat32 || t == tuttiFloat64 || t == tuttiBfloat16 ||
         t == tuttiFp8E4M3 || t == tuttiFp8E5M2;
}

const char* typeName(tuttiDataType_t dtype) { return dtypeName(dtype); }

double premulTestScalar(tuttiDataType_t dtype, int rank) {
  return isFloatType(dtype) ? (rank % 2 ? 4.0 : 2.0) : 1.0 + rank % 3;
}
const char* redOpName(tuttiRedOp_t op) { return opName(op); }

namespace {

// Wraps an integer result into the dtype's range, as two's complement storage does.
double wrapInt(long double v, tuttiDataType_t dtype) {
  __int128 x = static_cast<__int128>(v);
  switch (dtype) {
    case tuttiInt8: return static_cast<int8_t>(static_cast<uint8_t>(x));
    case tuttiUint8: return static_cast<uint8_t>(x);
    case tuttiInt32: return static_cast<int32_t>(static_cast<uint32_t>(x));
    case tuttiUint32: return static_cast<uint32_t>(x);
    case tuttiInt64: return static_cast<double>(static_cast<int64_t>(static_cast<uint64_t>(x)));
    case tuttiUint64: return static_cast<double>(static_cast<uint64_t>(x));
    default: return static_cast<double>(v);
  }
}

double unitRoundoff(tuttiDataType_t t) {
  switch (t) {
    case tuttiFloat16: return 0x1p-11;
    case tuttiBfloat16: return 0x1p-8;
    case tuttiFloat32: return 0x1p-24;
    case tuttiFloat64: return 0x1p-53;
    case tuttiFp8E4M3: return 0x1p-4;
    case tuttiFp8E5M2: return 0x1p-3;
    default: return 0;
  }
}

double smallestStep(tuttiDataType_t t) {
  switch (t) {
    case tuttiFloat16: return 0x1p-24;
    case tuttiBfloat16: return 0x1p-133;
    case tuttiFp8E4M3: return 0x1p-9;
    case tuttiFp8E5M2: return 0x1p-16;
    default: return 0;
  }
}

}  // namespace

double referenceReduce(const std::vector<double>& v, tuttiDataType_t dtype, tuttiRedOp_t op) {
  const bool isFloat = isFloatType(dtype);
  const int n = static_cast<int>(v.size());
  if (!isFloat) {
    // Wrap after every step, as the storage type does (sums of in-range values need it only
    // once, products can overflow the intermediate).
    long double acc = v[0];
    for (int i = 1; i < n; ++i) {
      switch (op) {
        case tuttiProd: acc = wrapInt(acc * v[i], dtype); break;
        case tuttiMax: acc = acc < v[i] ? v[i] : acc; break;
        case tuttiMin: acc = v[i] < acc ? v[i] : acc; break;
        default: acc = wrapInt(acc + v[i], dtype); break;
      }
    }
    if (op == tuttiAvg) {
      __int128 q = static_cast<__int128>(acc) / n;  // C++ truncation, as divideBy does
      return wrapInt(static_cast<long double>(q), dtype);
    }
    return wrapInt(acc, dtype);
  }
  double acc = v[0];
  for (int i = 1; i < n; ++i) {
    switch (op) {
      case tuttiProd: acc *= v[i]; break;
      case tuttiMax: acc = acc < v[i] ? v[i] : acc; break;
      case tuttiMin: acc = v[i] < acc ? v[i] : acc; break;
      default: acc += v[i]; break;
    }
  }
  if (op == tuttiAvg) acc /= n;
  return acc;
}

double tolerance(const std::vector<double>& v, tuttiDataType_t dtype, tuttiRedOp_t op) {
  if (!isFloatType(dtype) || op == tuttiMax || op == tuttiMin) return 0;
  const double u = unitRoundoff(dtype);
  const double n = static_cast<double>(v.size());
  double mag = 0;
  if (op == tuttiProd) {
    mag = 1;
    for (double x : v) mag *= std::fabs(x);
  } else {
    for (double x : v) mag += std::fabs(x);
    if (op == tuttiAvg) mag /= n;
  }
  return 2 * (n + 1) * u * mag + 2 * smallestStep(dtype);
}

std::string checkElement(double got, double expected, double tol, size_t i) {
  if (std::isnan(got) || std::fabs(got - expected) > tol) {
    std::ostringstream os;
    os << "element " << i << ": got " << got << ", expected " << expected << " (tolerance " << tol
       << ")";
    return os.str();
  }
  return "";
}

}  // namespace tutti::testing
