// Deterministic, rank-dependent check data. Element i of rank p's input is value(p, index(i)):
// a table of kPeriod entries per rank, read at a hash-scrambled offset per block so the data is
// not periodic. Values are small multiples of a quantum chosen so that every partial sum or
// product the library may form is exact in the data type, whatever the reduction order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "harness/dtypes.h"

namespace tutti::perf {

class DataGen {
 public:
  static constexpr size_t kPeriod = 4099;  // prime: misplaced power-of-two chunks never match

  // `reduces` false: data of a collective that only moves data (full exact range, op unused).
  DataGen(DataType type, RedOp op, bool reduces, int nranks, uint64_t seed);

  DataType type() const { return type_; }
  int nranks() const { return nranks_; }
  size_t typeBytes() const { return typeBytes_; }

  // Table index of element `elem` of any rank's input.
  size_t index(size_t elem) const;
  const uint8_t* valueBytes(int rank, size_t j) const {
    return &valueBytes_[(static_cast<size_t>(rank) * kPeriod + j) * typeBytes_];
  }
  double value(int rank, size_t j) const {
    return values_[static_cast<size_t>(rank) * kPeriod + j];
  }
  // The op applied over all ranks' values at table index j: exact (before rounding to the type)
  // and as the bytes a correct library produces when the tolerance is zero.
  double reduced(size_t j) const { return reduced_[j]; }
  const uint8_t* reducedBytes(size_t j) const { return &reducedBytes_[j * typeBytes_]; }
  // Allowed |got - reduced| for float types; 0 means the bytes must match exactly.
  double reduceTolerance() const { return tolerance_; }
  // Largest magnitude of one rank's input value.
  double valueRange() const { return range_ * quantum_; }

  // Writes `count` elements of rank `rank`'s input, starting at element `first`, to dst (host).
  void fill(int rank, size_t first, size_t count, void* dst) const;

 private:
  double drawValue(int rank, size_t j) const;
  double combine(const std::vector<double>& vals) const;

  DataType type_;
  RedOp op_;
  bool reduces_;
  int nranks_;
  uint64_t seed_;
  size_t typeBytes_;
  double quantum_;  // values are integers times this (0.25 for floats, 1 for integers)
  double range_;    // |value| <= range_ * quantum_
  double tolerance_ = 0;
  std::vector<double> values_;  // [rank][j]
  std::vector<uint8_t> valueBytes_;
  std::vector<double> reduced_;
  std::vector<uint8_t> reducedBytes_;
};

// splitmix64: the harness' hash for scrambling and drawing values.
uint64_t mix64(uint64_t x);

}  // namespace tutti::perf
