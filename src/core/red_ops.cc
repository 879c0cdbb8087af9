// PreMulSum operator slots.
#include "core/red_ops.h"

#include <algorithm>
#include <cstring>

#include "kernels/dtype_dispatch.h"

namespace tutti {

tuttiRedOp_t RedOpTable::create(tuttiDataType_t dtype, const void* scalar) {
  PreMulOp pm{dtype, 0, true};
  memcpy(&pm.scalar, scalar, dtypeSize(dtype));
  std::lock_guard<std::mutex> lock(mutex_);
  size_t slot = std::find_if(ops_.begin(), ops_.end(), [](const PreMulOp& o) { return !o.live; }) -
                ops_.begin();
  if (slot == ops_.size())
    ops_.push_back(pm);
  else
    ops_[slot] = pm;
  return static_cast<tuttiRedOp_t>(tuttiNumOps + slot);
}

Result RedOpTable::destroy(tuttiRedOp_t op) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t slot = static_cast<size_t>(op) - tuttiNumOps;
  if (op < tuttiNumOps || slot >= ops_.size() || !ops_[slot].live)
    return setError(tuttiInvalidArgument,
                    "op %d was not created by tuttiRedOpCreatePreMulSum on this comm", op);
  ops_[slot].live = false;
  return tuttiSuccess;
}

Result RedOpTable::resolve(tuttiRedOp_t op, tuttiDataType_t dtype, uint64_t* scalar) const {
  if (op >= 0 && op < tuttiNumOps) return tuttiSuccess;
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t slot = static_cast<size_t>(op) - tuttiNumOps;
  if (op < tuttiNumOps || slot >= ops_.size() || !ops_[slot].live)
    return setError(tuttiInvalidArgument, "op %d is not a tuttiRedOp_t or a live PreMulSum op", op);
  if (ops_[slot].dtype != dtype)
    return setError(tuttiInvalidArgument, "op %d was created for %s but datatype is %s", op,
                    dtypeName(ops_[slot].dtype), dtypeName(dtype));
  *scalar = ops_[slot].scalar;
  return tuttiSuccess;
}

}  // namespace tutti
