// Reduction kernels of the half dtypes (see reduce_instantiate.cuh).
#include "reduce_instantiate.cuh"

namespace tutti {
namespace reduce_detail {
TUTTI_INSTANTIATE_REDUCTIONS(Half)
TUTTI_INSTANTIATE_REDUCTIONS(BFloat16)
}  // namespace reduce_detail
}  // namespace tutti
