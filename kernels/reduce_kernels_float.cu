// Reduction kernels of the float dtypes (see reduce_instantiate.cuh).
#include "reduce_instantiate.cuh"

namespace tutti {
namespace reduce_detail {
TUTTI_INSTANTIATE_REDUCTIONS(float)
TUTTI_INSTANTIATE_REDUCTIONS(double)
}  // namespace reduce_detail
}  // namespace tutti
