// Maps tuttiDataType_t / tuttiRedOp_t values to the C++ storage types and functors, so that a
// runtime (dtype, op) pair reaches a fully inlined template on both executors.
#pragma once

#include <cstddef>
#include <cstdint>

#include "float_types.h"
#include "reduce_ops.h"
#include "tutti/tutti.h"

namespace tutti {

template <typename T>
struct TypeTag {
  using Type = T;
};

// Calls fn(TypeTag<T>{}) for the storage type of `dtype`. Returns false if unknown.
template <typename Fn>
inline bool dispatchType(tuttiDataType_t dtype, Fn&& fn) {
  switch (dtype) {
    case tuttiInt8: fn(TypeTag<int8_t>{}); return true;
    case tuttiUint8: fn(TypeTag<uint8_t>{}); return true;
    case tuttiInt32: fn(TypeTag<int32_t>{}); return true;
    case tuttiUint32: fn(TypeTag<uint32_t>{}); return true;
    case tuttiInt64: fn(TypeTag<int64_t>{}); return true;
    case tuttiUint64: fn(TypeTag<uint64_t>{}); return true;
    case tuttiFloat16: fn(TypeTag<Half>{}); return true;
    case tuttiFloat32: fn(TypeTag<float>{}); return true;
    case tuttiFloat64: fn(TypeTag<double>{}); return true;
    case tuttiBfloat16: fn(TypeTag<BFloat16>{}); return true;
    case tuttiFp8E4M3: fn(TypeTag<Fp8E4M3>{}); return true;
    case tuttiFp8E5M2: fn(TypeTag<Fp8E5M2>{}); return true;
    default: return false;
  }
}

inline size_t dtypeSize(tuttiDataType_t dtype) {
  switch (dtype) {
    case tuttiInt8:
    case tuttiUint8:
    case tuttiFp8E4M3:
    case tuttiFp8E5M2: return 1;
    case tuttiFloat16:
    case tuttiBfloat16: return 2;
    case tuttiInt32:
    case tuttiUint32:
    case tuttiFloat32: return 4;
    case tuttiInt64:
    case tuttiUint64:
    case tuttiFloat64: return 8;
    default: return 0;
  }
}

inline const char* dtypeName(tuttiDataType_t dtype) {
  static const char* names[] = {"int8",    "uint8",    "int32",    "uint32",
                                "int64",   "uint64",   "float16",  "float32",
                                "float64", "bfloat16", "fp8_e4m3", "fp8_e5m2"};
  return (dtype >= 0 && dtype < tuttiNumTypes) ? names[dtype] : "unknown";
}

inline const char* opName(tuttiRedOp_t op) {
  static const char* names[] = {"sum", "prod", "max", "min", "avg"};
  return (op >= 0 && op < tuttiNumOps) ? names[op] : "premulsum";
}

// The element-wise combining function behind each op (avg and premulsum combine by sum).
enum class CombineKind : uint8_t { kSum, kProd, kMax, kMin };

// Avg and PreMulSum (op ids past tuttiNumOps) combine by sum.
inline CombineKind combineOf(tuttiRedOp_t op) {
  switch (op) {
    case tuttiProd: return CombineKind::kProd;
    case tuttiMax: return CombineKind::kMax;
    case tuttiMin: return CombineKind::kMin;
    default: return CombineKind::kSum;
  }
}

template <typename Fn>
inline void dispatchCombine(CombineKind kind, Fn&& fn) {
  switch (kind) {
    case CombineKind::kSum: fn(FuncSum{}); break;
    case CombineKind::kProd: fn(FuncProd{}); break;
    case CombineKind::kMax: fn(FuncMax{}); break;
    case CombineKind::kMin: fn(FuncMin{}); break;
  }
}

}  // namespace tutti
