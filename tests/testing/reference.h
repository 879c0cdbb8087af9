// CPU reference for reductions: exact integer semantics (two's complement wraparound, integer
// division for avg) and float results in double precision with a tolerance per dtype.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tutti/tutti.h"

namespace tutti::testing {

// Reduces `values` (one per rank, in rank order) as Tutti must for (dtype, op); for integer
// types the result is exact, for floats it is computed in double.
double referenceReduce(const std::vector<double>& values, tuttiDataType_t dtype, tuttiRedOp_t op);

// Allowed |got - expected| for one reduced element: for floats, 2 * n * u * sum|x| where u is
// the dtype's unit roundoff (each of up to n partial results may round once), plus the
// smallest subnormal step; zero for integers and for min/max.
double tolerance(const std::vector<double>& values, tuttiDataType_t dtype, tuttiRedOp_t op);

// Compares element i; returns an empty string when within tolerance, else a description.
std::string checkElement(double got, double expected, double tol, size_t i);

bool isFloatType(tuttiDataType_t dtype);

// Every dtype and op, for sweeps.
inline const std::vector<tuttiDataType_t>& allTypes() {
  static const std::vector<tuttiDataType_t> types = {
      tuttiInt8,    tuttiUint8,   tuttiInt32,   tuttiUint32,   tuttiInt64,   tuttiUint64,
      tuttiFloat16, tuttiFloat32, tuttiFloat64, tuttiBfloat16, tuttiFp8E4M3, tuttiFp8E5M2};
  return types;
}
// Sweeps name PreMulSum with this marker; the case runner creates the real operator on each
// rank with that rank's own scalar (premulTestScalar), as NCCL users do.
constexpr tuttiRedOp_t kTestPreMulSum = tuttiNumOps;
// Rank `rank`'s PreMulSum scalar: 2 or 4 for floats (exact in every float dtype), 1 to 3 for
// integers (no wraparound of a scaled input), different on neighbouring ranks.
double premulTestScalar(tuttiDataType_t dtype, int rank);
inline const std::vector<tuttiRedOp_t>& allOps() {
  static const std::vector<tuttiRedOp_t> ops = {tuttiSum, tuttiProd, tuttiMax,
                                                tuttiMin, tuttiAvg,  kTestPreMulSum};
  return ops;
}
const char* typeName(tuttiDataType_t dtype);
const char* redOpName(tuttiRedOp_t op);

}  // namespace tutti::testing
