// Reduction functors and the CPU math built on them: wraparound integers, float
// accumulation for narrow types, rank-ordered multi-source reduction, avg and premul.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "cpu/host_reduce.h"

namespace tutti {
namespace {

TEST(ReduceOps, IntegersWrapAround) {
  EXPECT_EQ(FuncSum{}(int32_t(INT32_MAX), int32_t(1)), INT32_MIN);
  EXPECT_EQ(FuncProd{}(int64_t(1) << 62, int64_t(4)), 0);
  EXPECT_EQ(FuncSum{}(uint8_t(250), uint8_t(10)), 4);
  EXPECT_EQ(FuncProd{}(int8_t(-128), int8_t(-1)), -128);
}

TEST(ReduceOps, MinMax) {
  EXPECT_EQ(FuncMax{}(3.0, -2.0), 3.0);
  EXPECT_EQ(FuncMin{}(int64_t(-5), int64_t(7)), -5);
}

TEST(ReduceOps, HalfAccumulatesInFloat) {
  // 2048 + 1 + 1 is 2050 in float; pairwise rounding in half would stay at 2048.
  std::vector<Half> a = {toHalf(2048.0f)}, b = {toHalf(1.0f)}, c = {toHalf(1.0f)}, out(1);
  const void* srcs[] = {a.data(), b.data(), c.data()};
  hostCombineMany(ReduceSpec{tuttiFloat16, CombineKind::kSum}, out.data(), srcs, 3, 1);
  EXPECT_EQ(toFloat(out[0]), 2050.0f);
}

TEST(ReduceOps, CombineAliasesDestination) {
  std::vector<float> a = {1, 2, 3}, b = {10, 20, 30};
  hostCombine(ReduceSpec{tuttiFloat32, CombineKind::kSum}, a.data(), a.data(), b.data(), 3);
  EXPECT_EQ(a, (std::vector<float>{11, 22, 33}));
}

TEST(ReduceOps, DivideAndScale) {
  std::vector<int32_t> v = {7, -7, 9};
  hostDivide(tuttiInt32, v.data(), v.data(), 3, 2);
  EXPECT_EQ(v, (std::vector<int32_t>{3, -3, 4}));  // C++ truncation, like NCCL
  std::vector<float> f = {1, 2}, g(2);
  float k = 0.5f;
  hostScale(tuttiFloat32, g.data(), f.data(), 2, &k);
  EXPECT_EQ(g, (std::vector<float>{0.5f, 1.0f}));
}

TEST(ReduceOps, EveryDtypeDispatches) {
  for (int t = 0; t < tuttiNumTypes; ++t) {
    auto dt = static_cast<tuttiDataType_t>(t);
    EXPECT_GT(dtypeSize(dt), 0u);
    bool ok = dispatchType(dt, [](auto) {});
    EXPECT_TRUE(ok) << dtypeName(dt);
  }
  EXPECT_FALSE(dispatchType(static_cast<tuttiDataType_t>(99), [](auto) {}));
  EXPECT_EQ(dtypeSize(static_cast<tuttiDataType_t>(99)), 0u);
}

}  // namespace
}  // namespace tutti
