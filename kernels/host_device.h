// TUTTI_HD marks functions compiled for both the CPU executor and CUDA kernels.
#pragma once

#if defined(__CUDACC__)
#define TUTTI_HD __host__ __device__ __forceinline__
#else
#define TUTTI_HD inline
#endif
