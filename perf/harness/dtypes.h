// Data types and reduction ops as the perf harness names them, with the facts it needs about
// each type (size, precision, exact integer range) and exact encode/decode through double.
// The numeric values match tuttiDataType_t/tuttiRedOp_t and ncclDataType_t/ncclRedOp_t.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tutti::perf {

enum class DataType : int {
  kInt8 = 0,
  kUint8 = 1,
  kInt32 = 2,
  kUint32 = 3,
  kInt64 = 4,
  kUint64 = 5,
  kHalf = 6,
  kFloat = 7,
  kDouble = 8,
  kBfloat16 = 9,
  kFp8E4M3 = 10,
  kFp8E5M2 = 11,
};
constexpr int kNumDataTypes = 12;

enum class RedOp : int { kSum = 0, kProd = 1, kMax = 2, kMin = 3, kAvg = 4 };
constexpr int kNumRedOps = 5;

size_t typeSize(DataType t);
const char* typeName(DataType t);  // the name printed in the table ("float", "fp8_e4m3", ...)
const char* opName(RedOp op);      // "sum", "prod", "max", "min", "avg"
bool isFloatType(DataType t);
bool isSignedType(DataType t);
// Significand bits including the implicit one (float: 24); integer types: value bits.
int mantissaBits(DataType t);
// Largest M such that every integer in [-M, M] (or [0, M] if unsigned) is exactly representable
// both in the type and in a double.
double exactIntegerLimit(DataType t);
// Smallest positive value of a float type (subnormal); 1 for integers.
double smallestPositive(DataType t);

// Parses one type name or alias ("float", "float32", "half", "fp8_e4m3", "f8e4m3", ...).
bool parseDataType(const std::string& name, DataType* out);
// "all" expands to every type; otherwise one.
bool parseDataTypeList(const std::string& name, std::vector<DataType>* out);
bool parseRedOp(const std::string& name, RedOp* out);
bool parseRedOpList(const std::string& name, std::vector<RedOp>* out);

// Writes `v` in type `t` at dst (round to nearest even for floats, saturating fp8; integers
// are truncated toward zero and wrapped to the type's width).
void encodeValue(DataType t, double v, void* dst);
// Reads one element of type `t` (NaN/inf preserved for float types).
double decodeValue(DataType t, const void* src);

}  // namespace tutti::perf
