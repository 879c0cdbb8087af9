// Deterministic random inputs: any rank can regenerate any other rank's input from the seed,
// so expected results need no communication. The seed is printed with every failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tutti/tutti.h"

namespace tutti::testing {

// The seed of this test run: TUTTI_TEST_SEED, else a fixed default (printed by callers).
uint64_t testSeed();

// Value of element `i` of `rank`'s input for (dtype, op): never all zeros, sized so that the
// op cannot overflow and exactly representable in dtype.
double inputValue(uint64_t seed, int rank, size_t i, tuttiDataType_t dtype, tuttiRedOp_t op,
                  int nranks);

// Writes value `v` (already representable) into element i of a dtype buffer, and back.
void storeValue(void* buf, size_t i, tuttiDataType_t dtype, double v);
double loadValue(const void* buf, size_t i, tuttiDataType_t dtype);

// Fills `count` elements of rank's input.
void fillInput(void* buf, size_t count, uint64_t seed, int rank, tuttiDataType_t dtype,
               tuttiRedOp_t op, int nranks, size_t firstIndex = 0);

}  // namespace tutti::testing
