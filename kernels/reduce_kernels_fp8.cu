// Reduction kernels of the fp8 dtypes (see reduce_instantiate.cuh).
#include "reduce_instantiate.cuh"

namespace tutti {
namespace reduce_detail {
TUTTI_INSTANTIATE_REDUCTIONS(Fp8E4M3)
TUTTI_INSTANTIATE_REDUCTIONS(Fp8E5M2)
}  // namespace reduce_detail
}  // namespace tutti
