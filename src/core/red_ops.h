// A communicator's PreMulSum operators (tuttiRedOpCreatePreMulSum): op tuttiNumOps + i is slot
// i. A call copies its operator's scalar when it is made, so the operator may be destroyed
// before a group launches.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "base/error.h"
#include "tutti/tutti.h"

namespace tutti {

class RedOpTable {
 public:
  // `scalar` holds one element of `dtype`.
  tuttiRedOp_t create(tuttiDataType_t dtype, const void* scalar);
  Result destroy(tuttiRedOp_t op);
  // Built-in ops pass; a live PreMulSum op of `dtype` passes and fills *scalar (one element,
  // little-endian in the low bytes); anything else is tuttiInvalidArgument with a sentence.
  Result resolve(tuttiRedOp_t op, tuttiDataType_t dtype, uint64_t* scalar) const;

 private:
  struct PreMulOp {
    tuttiDataType_t dtype;
    uint64_t scalar;
    bool live;
  };
  mutable std::mutex mutex_;
  std::vector<PreMulOp> ops_;
};

}  // namespace tutti
