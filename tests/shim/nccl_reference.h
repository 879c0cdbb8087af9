// CPU reference of the shim tests, independent of Tutti's code: element conversions for every
// ncclDataType_t (round to nearest even), seeded inputs that every rank can regenerate, and
// the reductions NCCL defines (sum, prod, max, min, avg, PreMulSum).
#pragma once

#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shimtest {

constexpr ncclDataType_t kAllTypes[] = {ncclInt8,    ncclUint8,    ncclInt32,      ncclUint32,
                                        ncclInt64,   ncclUint64,   ncclFloat16,    ncclFloat32,
                                        ncclFloat64, ncclBfloat16, ncclFloat8e4m3, ncclFloat8e5m2};

size_t typeSize(ncclDataType_t t);
const char* typeName(ncclDataType_t t);
bool isFloat(ncclDataType_t t);
bool isUnsigned(ncclDataType_t t);

double load(ncclDataType_t t, const void* base, size_t i);
// Rounds `v` to the type (nearest even; integers truncate toward zero and wrap).
void store(ncclDataType_t t, void* base, size_t i, double v);

// Small integers, chosen so that sums and products of up to 3 ranks stay exact in every type
// (fp8 included): rank `rank`'s input of a test identified by `seed`.
std::vector<char> makeInput(ncclDataType_t t, size_t count, uint64_t seed, int rank, bool forProd);

// The value NCCL defines for element i of a reduction of every rank's input. `scalar` is the
// PreMulSum factor (`op` == ncclNumOps stands for PreMulSum here).
double reduceRef(ncclDataType_t t, int op, const std::vector<std::vector<char>>& inputs, size_t i,
                 double scalar);

// Compares count elements; integer types and exact ops must match exactly, float averages to
// within a couple of units in the last place. Returns "" or a description of the first
// mismatch.
std::string compare(ncclDataType_t t, const void* got, const std::vector<double>& want,
                    size_t count, bool approx);

}  // namespace shimtest
