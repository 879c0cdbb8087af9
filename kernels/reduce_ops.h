// Reduction functors shared by the CPU executor and the CUDA kernels. Each storage type has an
// accumulation type (float for 16- and 8-bit floats); integer sums and products wrap around.
#pragma once

#include <cstdint>
#include <type_traits>

#include "float_types.h"
#include "host_device.h"

namespace tutti {

// Storage <-> accumulation conversions.
template <typename T>
struct AccumOf {
  using Type = T;
  static TUTTI_HD T load(T v) { return v; }
  static TUTTI_HD T store(T v) { return v; }
};
template <>
struct AccumOf<Half> {
  using Type = float;
  static TUTTI_HD float load(Half v) { return toFloat(v); }
  static TUTTI_HD Half store(float v) { return toHalf(v); }
};
template <>
struct AccumOf<BFloat16> {
  using Type = float;
  static TUTTI_HD float load(BFloat16 v) { return toFloat(v); }
  static TUTTI_HD BFloat16 store(float v) { return toBFloat16(v); }
};
template <>
struct AccumOf<Fp8E4M3> {
  using Type = float;
  static TUTTI_HD float load(Fp8E4M3 v) { return toFloat(v); }
  static TUTTI_HD Fp8E4M3 store(float v) { return toFp8E4M3(v); }
};
template <>
struct AccumOf<Fp8E5M2> {
  using Type = float;
  static TUTTI_HD float load(Fp8E5M2 v) { return toFloat(v); }
  static TUTTI_HD Fp8E5M2 store(float v) { return toFp8E5M2(v); }
};

// Signed overflow is undefined in C++; NCCL users expect two's complement wraparound.
template <typename A>
TUTTI_HD A wrapAdd(A a, A b) {
  if constexpr (std::is_integral<A>::value) {
    using U = typename std::make_unsigned<A>::type;
    return static_cast<A>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}
template <typename A>
TUTTI_HD A wrapMul(A a, A b) {
  if constexpr (std::is_integral<A>::value) {
    using U = typename std::make_unsigned<A>::type;
    // Promote 8-bit operands through unsigned int so the product cannot overflow int.
    return static_cast<A>(static_cast<U>(static_cast<unsigned long long>(static_cast<U>(a)) *
                                         static_cast<unsigned long long>(static_cast<U>(b))));
  } else {
    return a * b;
  }
}

struct FuncSum {
  template <typename A>
  TUTTI_HD A operator()(A a, A b) const {
    return wrapAdd(a, b);
  }
};
struct FuncProd {
  template <typename A>
  TUTTI_HD A operator()(A a, A b) const {
    return wrapMul(a, b);
  }
};
struct FuncMax {
  template <typename A>
  TUTTI_HD A operator()(A a, A b) const {
    return a < b ? b : a;
  }
};
struct FuncMin {
  template <typename A>
  TUTTI_HD A operator()(A a, A b) const {
    return b < a ? b : a;
  }
};

// Final step of tuttiAvg: the sum divided by the rank count (integer division for integers).
template <typename A>
TUTTI_HD A divideBy(A sum, int n) {
  if constexpr (std::is_integral<A>::value) {
    return static_cast<A>(sum / static_cast<A>(n));
  } else {
    return sum / static_cast<A>(n);
  }
}

// PreMulSum's scaling of each rank's own contribution.
template <typename A>
TUTTI_HD A scaleBy(A v, A scalar) {
  return wrapMul(v, scalar);
}

}  // namespace tutti
