// Helpers for compressed-collective tests: Gaussian inputs any rank can regenerate, the fp64
// reference, relative L2 error, and a check that every rank holds the same output bits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tutti/tutti.h"

namespace tutti::testing {

// Element i of rank's input: a Gaussian value whose scale varies slowly with i (blocks of
// very different magnitudes), rounded to dtype.
double gaussianInput(uint64_t seed, int rank, size_t i, tuttiDataType_t dtype);
void fillGaussian(void* buf, size_t count, uint64_t seed, int rank, tuttiDataType_t dtype,
                  size_t firstIndex = 0);

// sqrt(sum (got - want)^2 / sum want^2) over a dtype buffer against fp64 values.
double relativeL2(const void* got, tuttiDataType_t dtype, const std::vector<double>& want);

// "" when every rank's `bytes` are identical (compared through an uncompressed AllGather of
// hashes on comm), else which ranks differ.
std::string sameOnEveryRank(tuttiComm_t comm, const void* bytes, size_t n);

// "int8:32", "topk:0.01", ...; a ",internode" suffix sets TUTTI_COMPRESS_INTER_NODE_ONLY.
tuttiCompression_t compressionOf(const std::string& text);

// A value a forked rank hands to the test process that forked it (a file named after it).
void publishValue(const std::string& name, double v);
double readPublished(const std::string& name);

}  // namespace tutti::testing
