// Reduction kernels of the int dtypes (see reduce_instantiate.cuh).
#include "reduce_instantiate.cuh"

namespace tutti {
namespace reduce_detail {
TUTTI_INSTANTIATE_REDUCTIONS(int8_t)
TUTTI_INSTANTIATE_REDUCTIONS(uint8_t)
TUTTI_INSTANTIATE_REDUCTIONS(int32_t)
TUTTI_INSTANTIATE_REDUCTIONS(uint32_t)
TUTTI_INSTANTIATE_REDUCTIONS(int64_t)
TUTTI_INSTANTIATE_REDUCTIONS(uint64_t)
}  // namespace reduce_detail
}  // namespace tutti
