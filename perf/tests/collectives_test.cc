// Counts, bus-bandwidth factors and expected results of every collective, checked by
// simulating each collective on the harness' own check data (no library involved).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "harness/check.h"
#include "harness/collective.h"
#include "harness/data_gen.h"

namespace tutti::perf {
namespace {

TEST(Collectives, RegistryHasAllSeven) {
  EXPECT_EQ(allCollectives().size(), 7u);
  for (const char* name : {"all_reduce", "all_gather", "reduce_scatter", "alltoall", "broadcast",
                           "reduce", "sendrecv"}) {
    EXPECT_NE(findCollective(name), nullptr) << name;
  }
  EXPECT_EQ(findCollective("gather"), nullptr);
}

TEST(Collectives, BusBwFactors) {
  EXPECT_DOUBLE_EQ(kAllReduce.busBwFactor(4), 1.5);
  EXPECT_DOUBLE_EQ(kAllReduce.busBwFactor(1), 0.0);
  EXPECT_DOUBLE_EQ(kAllGather.busBwFactor(4), 0.75);
  EXPECT_DOUBLE_EQ(kReduceScatter.busBwFactor(8), 0.875);
  EXPECT_DOUBLE_EQ(kAllToAll.busBwFactor(2), 0.5);
  EXPECT_DOUBLE_EQ(kBroadcast.busBwFactor(4), 1.0);
  EXPECT_DOUBLE_EQ(kReduce.busBwFactor(4), 1.0);
  EXPECT_DOUBLE_EQ(kSendRecv.busBwFactor(4), 1.0);
}

TEST(Collectives, CountsFollowNcclTests) {
  // 1000 floats over 3 ranks.
  Counts c = kAllGather.counts(1000, 3);
  EXPECT_EQ(c.sendCount, 333u);
  EXPECT_EQ(c.recvCount, 999u);
  EXPECT_EQ(c.paramCount, 333u);
  EXPECT_EQ(c.sendInplaceOffset, 333u);
  EXPECT_EQ(c.recvInplaceOffset, 0u);
  c = kReduceScatter.counts(1000, 3);
  EXPECT_EQ(c.sendCount, 999u);
  EXPECT_EQ(c.recvCount, 333u);
  EXPECT_EQ(c.paramCount, 333u);
  EXPECT_EQ(c.recvInplaceOffset, 333u);
  c = kAllToAll.counts(1000, 3);
  EXPECT_EQ(c.sendCount, 999u);
  EXPECT_EQ(c.recvCount, 999u);
  EXPECT_EQ(c.paramCount, 333u);
  for (const Collective* coll : {&kAllReduce, &kBroadcast, &kReduce, &kSendRecv}) {
    c = coll->counts(1000, 3);
    EXPECT_EQ(c.sendCount, 1000u) << coll->name;
    EXPECT_EQ(c.recvCount, 1000u) << coll->name;
    EXPECT_EQ(c.paramCount, 1000u) << coll->name;
  }
  c = kAllGather.counts(2, 4);  // fewer elements than ranks: a zero-sized operation
  EXPECT_EQ(c.recvCount, 0u);
}

// A reduction done the way a pipelined library may do it: one rank at a time, rounding to the
// data type after every step (the worst case for exactness), in the given rank order.
void reduceInto(const std::vector<std::vector<uint8_t>>& inputs, DataType t, RedOp op,
                const std::vector<int>& order, size_t first, size_t count, uint8_t* out) {
  const size_t ws = typeSize(t);
  const int n = static_cast<int>(inputs.size());
  for (size_t e = 0; e < count; ++e) {
    size_t at = (first + e) * ws;
    double acc = decodeValue(t, &inputs[order[0]][at]);
    for (int k = 1; k < n; ++k) {
      double v = decodeValue(t, &inputs[order[k]][at]);
      switch (op) {
        case RedOp::kSum:
        case RedOp::kAvg: acc += v; break;
        case RedOp::kProd: acc *= v; break;
        case RedOp::kMax: acc = std::max(acc, v); break;
        case RedOp::kMin: acc = std::min(acc, v); break;
      }
      uint8_t tmp[8];
      encodeValue(t, acc, tmp);  // round (or wrap) after each step
      acc = decodeValue(t, tmp);
    }
    if (op == RedOp::kAvg) acc = isFloatType(t) ? acc / n : std::trunc(acc / n);
    encodeValue(t, acc, out + e * ws);
  }
}

// Output of `rank` for a correct collective, computed from the inputs directly.
std::vector<uint8_t> simulate(const Collective& coll, const Counts& c, int rank, int n, int root,
                              DataType t, RedOp op, const std::vector<std::vector<uint8_t>>& in,
                              bool reversed) {
  const size_t ws = typeSize(t);
  std::vector<uint8_t> out(std::max<size_t>(c.recvCount, 1) * ws, 0xA5);
  std::vector<int> order;
  for (int r = 0; r < n; ++r) order.push_back(reversed ? n - 1 - r : r);
  std::string name = coll.name;
  if (name == "all_reduce" || (name == "reduce" && rank == root)) {
    reduceInto(in, t, op, order, 0, c.recvCount, out.data());
  } else if (name == "reduce_scatter") {
    reduceInto(in, t, op, order, rank * c.recvCount, c.recvCount, out.data());
  } else if (name == "all_gather") {
    for (int p = 0; p < n; ++p) memcpy(&out[p * c.sendCount * ws], in[p].data(), c.sendCount * ws);
  } else if (name == "alltoall") {
    for (int p = 0; p < n; ++p)
      memcpy(&out[p * c.paramCount * ws], &in[p][rank * c.paramCount * ws], c.paramCount * ws);
  } else if (name == "broadcast") {
    memcpy(out.data(), in[root].data(), c.recvCount * ws);
  } else if (name == "sendrecv") {
    memcpy(out.data(), in[(rank + n - 1) % n].data(), c.recvCount * ws);
  }
  return out;
}

struct SimCase {
  int nranks;
  DataType type;
  RedOp op;
};

TEST(Collectives, CorrectResultsHaveNoWrongValues) {
  const size_t bytes = DataGen::kPeriod + 37;  // crosses a table block for 1-byte types
  for (const Collective* coll : allCollectives()) {
    for (int n : {1, 2, 3, 5}) {
      for (int ti = 0; ti < kNumDataTypes; ++ti) {
        DataType t = static_cast<DataType>(ti);
        for (int oi = 0; oi < (coll->usesOp ? kNumRedOps : 1); ++oi) {
          RedOp op = static_cast<RedOp>(oi);
          DataGen gen(t, op, coll->usesOp, n, 1234);
          Counts c = coll->counts(bytes / typeSize(t), n);
          std::vector<std::vector<uint8_t>> in(n);
          for (int r = 0; r < n; ++r) {
            in[r].resize(std::max<size_t>(c.sendCount, 1) * typeSize(t));
            gen.fill(r, 0, c.sendCount, in[r].data());
          }
          int root = n - 1;
          for (int rank = 0; rank < n; ++rank) {
            for (bool reversed : {false, true}) {
              if (reversed && !coll->usesOp) continue;  // order only matters for reductions
              std::vector<uint8_t> out = simulate(*coll, c, rank, n, root, t, op, in, reversed);
              std::vector<Segment> segs;
              coll->expected(c, rank, n, root, &segs);
              EXPECT_EQ(countWrong(gen, segs, out.data()), 0)
                  << coll->name << " n=" << n << " " << typeName(t) << " " << opName(op) << " rank "
                  << rank << (reversed ? " reversed" : "");
            }
          }
        }
      }
    }
  }
}

TEST(Collectives, WrongResultsAreCounted) {
  const int n = 4;
  DataGen gen(DataType::kFloat, RedOp::kSum, true, n, 7);
  Counts c = kAllReduce.counts(10000, n);
  std::vector<std::vector<uint8_t>> in(n, std::vector<uint8_t>(c.sendCount * 4));
  for (int r = 0; r < n; ++r) gen.fill(r, 0, c.sendCount, in[r].data());
  std::vector<uint8_t> out =
      simulate(kAllReduce, c, 0, n, 0, DataType::kFloat, RedOp::kSum, in, false);
  std::vector<Segment> segs;
  kAllReduce.expected(c, 0, n, 0, &segs);
  float bad = 12345.5f;
  memcpy(&out[17 * 4], &bad, 4);
  memcpy(&out[9999 * 4], &bad, 4);
  EXPECT_EQ(countWrong(gen, segs, out.data()), 2);
  // A result that is some rank's input, not the sum, is wrong nearly everywhere.
  EXPECT_GT(countWrong(gen, segs, in[0].data()), 9900);
  // AllGather blocks swapped between two ranks are wrong.
  Counts g = kAllGather.counts(4000, n);
  DataGen move(DataType::kInt32, RedOp::kSum, false, n, 7);
  std::vector<uint8_t> gathered(g.recvCount * 4);
  for (int p = 0; p < n; ++p) move.fill(p, 0, g.sendCount, &gathered[p * g.sendCount * 4]);
  segs.clear();
  kAllGather.expected(g, 2, n, 0, &segs);
  EXPECT_EQ(countWrong(move, segs, gathered.data()), 0);
  std::vector<uint8_t> swapped = gathered;
  memcpy(&swapped[0], &gathered[g.sendCount * 4], g.sendCount * 4);
  EXPECT_GT(countWrong(move, segs, swapped.data()), static_cast<int64_t>(g.sendCount) * 9 / 10);
}

TEST(DataGen, InputsAreRankDependentAndNeverAllZero) {
  for (int ti = 0; ti < kNumDataTypes; ++ti) {
    DataType t = static_cast<DataType>(ti);
    for (int oi = 0; oi < kNumRedOps; ++oi) {
      DataGen gen(t, static_cast<RedOp>(oi), true, 4, 99);
      std::vector<uint8_t> a(1000 * typeSize(t)), b(a.size()), zero(a.size(), 0);
      gen.fill(0, 0, 1000, a.data());
      gen.fill(1, 0, 1000, b.data());
      EXPECT_NE(a, b) << typeName(t);
      EXPECT_NE(a, zero) << typeName(t);
    }
  }
}

TEST(DataGen, FillMatchesIndexAtAnyOffset) {
  DataGen gen(DataType::kHalf, RedOp::kMin, true, 3, 5);
  const size_t first = DataGen::kPeriod - 5, count = 3 * DataGen::kPeriod;
  std::vector<uint8_t> buf(count * 2);
  gen.fill(2, first, count, buf.data());
  for (size_t i = 0; i < count; ++i)
    ASSERT_EQ(memcmp(&buf[i * 2], gen.valueBytes(2, gen.index(first + i)), 2), 0) << i;
}

TEST(DataGen, NotPeriodic) {
  DataGen gen(DataType::kFloat, RedOp::kMax, true, 2, 5);
  size_t same = 0;
  for (size_t i = 0; i < 10 * DataGen::kPeriod; ++i)
    same += gen.index(i) == gen.index(i + DataGen::kPeriod);
  EXPECT_LT(same, 100u);
}

}  // namespace
}  // namespace tutti::perf
