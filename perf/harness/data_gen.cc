// Check-data tables and their reductions (see data_gen.h for the exactness argument).
#include "harness/data_gen.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tutti::perf {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

namespace {

// Uniform integer in [lo, hi] from a hash.
double drawInt(uint64_t h, double lo, double hi) {
  double span = hi - lo + 1;
  double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
  double k = lo + std::floor(u * span);
  return std::min(k, hi);
}

}  // namespace

DataGen::DataGen(DataType type, RedOp op, bool reduces, int nranks, uint64_t seed)
    : type_(type),
      op_(op),
      reduces_(reduces),
      nranks_(nranks < 1 ? 1 : nranks),
      seed_(mix64(seed ^ (static_cast<uint64_t>(type) << 32) ^ (static_cast<uint64_t>(op) << 40) ^
                  (reduces ? 1ull << 48 : 0))),
      typeBytes_(typeSize(type)) {
  const bool isFloat = isFloatType(type);
  quantum_ = isFloat ? 0.25 : 1.0;
  const double limit = exactIntegerLimit(type);  // in units of the quantum
  const double n = nranks_;
  if (!reduces_ || op_ == RedOp::kMax || op_ == RedOp::kMin) {
    range_ = std::min(limit, 1e6);
  } else if (op_ == RedOp::kProd) {
    range_ = std::min(limit, 64.0);
  } else {  // sum, avg: n values of magnitude <= range_ never leave the exact range
    range_ = std::max(1.0, std::floor(limit / n));
    range_ = std::min(range_, 1e6);
  }

  values_.resize(static_cast<size_t>(nranks_) * kPeriod);
  valueBytes_.resize(values_.size() * typeBytes_);
  for (int r = 0; r < nranks_; ++r) {
    for (size_t j = 0; j < kPeriod; ++j) {
      size_t at = static_cast<size_t>(r) * kPeriod + j;
      values_[at] = drawValue(r, j);
      encodeValue(type_, values_[at], &valueBytes_[at * typeBytes_]);
    }
  }

  reduced_.resize(kPeriod);
  reducedBytes_.resize(kPeriod * typeBytes_);
  std::vector<double> column(nranks_);
  for (size_t j = 0; j < kPeriod; ++j) {
    for (int r = 0; r < nranks_; ++r) column[r] = value(r, j);
    reduced_[j] = combine(column);
    encodeValue(type_, reduced_[j], &reducedBytes_[j * typeBytes_]);
    if (!isFloat) reduced_[j] = decodeValue(type_, &reducedBytes_[j * typeBytes_]);
  }

  if (isFloat && reduces_) {
    const double eps = std::ldexp(1.0, 1 - mantissaBits(type));
    const double maxAbs = range_ * quantum_;
    if (op_ == RedOp::kSum && n * range_ > limit) {
      tolerance_ = n * eps * n * maxAbs;  // past the exact range: each addition may round
    } else if (op_ == RedOp::kAvg) {
      // Sum then divide rounds once; pre-multiplying by 1/n rounds every term and partial sum.
      tolerance_ = 2 * (n + 1) * eps * maxAbs + n * smallestPositive(type);
      if (nranks_ == 1) tolerance_ = 0;
    }
  }
}

double DataGen::drawValue(int rank, size_t j) const {
  uint64_t h = mix64(seed_ ^ mix64((static_cast<uint64_t>(rank) << 32) ^ j));
  const bool isSigned = isSignedType(type_);
  double k;
  if (reduces_ && op_ == RedOp::kProd) {
    // One rank per index contributes a factor up to range_, the others +-1: |product| <= range_.
    int special = static_cast<int>(j % static_cast<size_t>(nranks_));
    k = rank == special ? drawInt(h, 1, range_) : 1;
    if (isSigned && ((h >> 7) & 1)) k = -k;
  } else if (reduces_ && (op_ == RedOp::kSum || op_ == RedOp::kAvg)) {
    // Never zero, so a buffer of zeros is never a correct answer.
    if (isSigned) {
      k = drawInt(h, 1, range_);
      if ((h >> 7) & 1) k = -k;
    } else {
      k = drawInt(h, 1, range_);
    }
  } else {
    k = drawInt(h, isSigned ? -range_ : 0, range_);
  }
  return k * quantum_;
}

double DataGen::combine(const std::vector<double>& vals) const {
  if (!reduces_) return vals[0];
  double acc = vals[0];
  switch (op_) {
    case RedOp::kSum:
    case RedOp::kAvg:
      // Integer units are summed exactly (|sum| < 2^53), then wrapped by encodeValue.
      for (size_t i = 1; i < vals.size(); ++i) acc += vals[i];
      if (op_ == RedOp::kAvg) {
        if (isFloatType(type_)) return acc / static_cast<double>(vals.size());
        // Integer avg: the sum wrapped to the type, then divided with truncation.
        uint8_t buf[8];
        encodeValue(type_, acc, buf);
        return std::trunc(decodeValue(type_, buf) / static_cast<double>(vals.size()));
      }
      return acc;
    case RedOp::kProd:
      for (size_t i = 1; i < vals.size(); ++i) acc *= vals[i];
      return acc;
    case RedOp::kMax:
      for (double v : vals) acc = std::max(acc, v);
      return acc;
    case RedOp::kMin:
      for (double v : vals) acc = std::min(acc, v);
      return acc;
  }
  return acc;
}

size_t DataGen::index(size_t elem) const {
  size_t block = elem / kPeriod;
  size_t offset = mix64(seed_ + block) % kPeriod;
  size_t j = elem % kPeriod + offset;
  return j >= kPeriod ? j - kPeriod : j;
}

void DataGen::fill(int rank, size_t first, size_t count, void* dst) const {
  uint8_t* out = static_cast<uint8_t*>(dst);
  const uint8_t* table = &valueBytes_[static_cast<size_t>(rank) * kPeriod * typeBytes_];
  size_t i = 0;
  while (i < count) {
    size_t elem = first + i;
    size_t j = index(elem);
    // Run to the end of this block or of the table, whichever comes first.
    size_t run = std::min({count - i, kPeriod - elem % kPeriod, kPeriod - j});
    memcpy(out + i * typeBytes_, table + j * typeBytes_, run * typeBytes_);
    i += run;
  }
}

}  // namespace tutti::perf
