// Command-line parsing and size sweep of the perf harness, checked against nccl-tests' rules.
#include "harness/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace tutti::perf {
namespace {

Status parse(std::vector<const char*> args, Options* o) {
  args.insert(args.begin(), "all_reduce_perf");
  return parseOptions(static_cast<int>(args.size()), args.data(), o);
}

TEST(ParseSize, SuffixesArePowersOf1024) {
  size_t v = 0;
  EXPECT_TRUE(parseSize("8", &v));
  EXPECT_EQ(v, 8u);
  EXPECT_TRUE(parseSize("1K", &v));
  EXPECT_EQ(v, 1024u);
  EXPECT_TRUE(parseSize("64M", &v));
  EXPECT_EQ(v, 64u << 20);
  EXPECT_TRUE(parseSize("1G", &v));
  EXPECT_EQ(v, size_t{1} << 30);
  EXPECT_TRUE(parseSize("2g", &v));
  EXPECT_EQ(v, size_t{2} << 30);
  EXPECT_TRUE(parseSize("4KiB", &v));
  EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parseSize("3MB", &v));
  EXPECT_EQ(v, 3u << 20);
  EXPECT_TRUE(parseSize("100B", &v));
  EXPECT_EQ(v, 100u);
}

TEST(ParseSize, RejectsGarbage) {
  size_t v = 0;
  EXPECT_FALSE(parseSize("", &v));
  EXPECT_FALSE(parseSize("K", &v));
  EXPECT_FALSE(parseSize("-8", &v));
  EXPECT_FALSE(parseSize("8X", &v));
  EXPECT_FALSE(parseSize("8KX", &v));
  EXPECT_FALSE(parseSize("99999999999T", &v));
}

TEST(ParseOptions, DefaultsMatchNcclTests) {
  Options o;
  ASSERT_TRUE(parse({}, &o).isOk());
  EXPECT_EQ(o.minBytes, size_t{32} << 20);
  EXPECT_EQ(o.maxBytes, size_t{32} << 20);
  EXPECT_EQ(o.stepBytes, size_t{1} << 20);
  EXPECT_EQ(o.stepFactor, 1u);
  EXPECT_EQ(o.iters, 20);
  EXPECT_EQ(o.warmupIters, 5);
  EXPECT_EQ(o.check, 1);
  EXPECT_EQ(o.types, std::vector<DataType>{DataType::kFloat});
  EXPECT_EQ(o.ops, std::vector<RedOp>{RedOp::kSum});
  EXPECT_EQ(o.root, 0);
  EXPECT_EQ(o.backend, "tutti");
  EXPECT_EQ(o.mem, MemChoice::kAuto);
}

TEST(ParseOptions, ShortAndLongForms) {
  Options o;
  Status s = parse({"-b",
                    "8",
                    "--maxbytes",
                    "1M",
                    "-f",
                    "2",
                    "-n",
                    "7",
                    "--warmup_iters=3",
                    "-c",
                    "0",
                    "-d",
                    "half",
                    "-o",
                    "max",
                    "-r",
                    "1",
                    "-g",
                    "2",
                    "-G",
                    "4",
                    "-z",
                    "1",
                    "-J",
                    "out.json",
                    "-a",
                    "1",
                    "-m",
                    "2",
                    "--mem",
                    "host",
                    "--np",
                    "4",
                    "--backend",
                    "nccl:/opt/nccl/libnccl.so.2",
                    "--seed",
                    "42",
                    "-T",
                    "60"},
                   &o);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(o.minBytes, 8u);
  EXPECT_EQ(o.maxBytes, 1u << 20);
  EXPECT_EQ(o.stepFactor, 2u);
  EXPECT_EQ(o.iters, 7);
  EXPECT_EQ(o.warmupIters, 3);
  EXPECT_EQ(o.check, 0);
  EXPECT_EQ(o.types, std::vector<DataType>{DataType::kHalf});
  EXPECT_EQ(o.ops, std::vector<RedOp>{RedOp::kMax});
  EXPECT_EQ(o.root, 1);
  EXPECT_EQ(o.gpusPerThread, 2);
  EXPECT_EQ(o.graphLaunches, 4);
  EXPECT_EQ(o.blocking, 1);
  EXPECT_EQ(o.jsonFile, "out.json");
  EXPECT_EQ(o.average, 1);
  EXPECT_EQ(o.aggIters, 2);
  EXPECT_EQ(o.mem, MemChoice::kHost);
  EXPECT_EQ(o.np, 4);
  EXPECT_EQ(o.backend, "nccl");
  EXPECT_EQ(o.ncclPath, "/opt/nccl/libnccl.so.2");
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.timeoutSec, 60);
}

TEST(ParseOptions, AttachedShortValue) {
  Options o;
  ASSERT_TRUE(parse({"-b8", "-e128M", "-dall", "-oall", "-rall"}, &o).isOk());
  EXPECT_EQ(o.minBytes, 8u);
  EXPECT_EQ(o.maxBytes, 128u << 20);
  EXPECT_EQ(o.types.size(), 12u);
  EXPECT_EQ(o.ops.size(), 5u);
  EXPECT_EQ(o.root, -1);
}

TEST(ParseOptions, ComputeBeside) {
  Options o;
  EXPECT_EQ(o.computeN, 0);
  ASSERT_TRUE(parse({"--compute", "8192"}, &o).isOk());
  EXPECT_EQ(o.computeN, 8192);
  Status s = parse({"--compute", "-4"}, &o);
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("--compute"), std::string::npos) << s.message();
}

TEST(ParseOptions, EveryTypeNameParses) {
  for (const char* name : {"float", "half", "bfloat16", "double", "int8", "uint8", "int32",
                           "uint32", "int64", "uint64", "fp8_e4m3", "fp8_e5m2"}) {
    Options o;
    Status s = parse({"-d", name}, &o);
    EXPECT_TRUE(s.isOk()) << name << ": " << s.message();
    ASSERT_EQ(o.types.size(), 1u);
    EXPECT_STREQ(typeName(o.types[0]), name);
  }
}

TEST(ParseOptions, Errors) {
  Options o;
  EXPECT_FALSE(parse({"-x"}, &o).isOk());
  EXPECT_FALSE(parse({"--nonsense", "1"}, &o).isOk());
  EXPECT_FALSE(parse({"-b"}, &o).isOk());  // missing value
  EXPECT_FALSE(parse({"-d", "complex"}, &o).isOk());
  EXPECT_FALSE(parse({"-o", "xor"}, &o).isOk());
  EXPECT_FALSE(parse({"-b", "2M", "-e", "1M"}, &o).isOk());
  EXPECT_FALSE(parse({"-t", "2"}, &o).isOk());
  EXPECT_FALSE(parse({"-a", "4"}, &o).isOk());
  EXPECT_FALSE(parse({"--mem", "gpu"}, &o).isOk());
  EXPECT_FALSE(parse({"--backend", "mpi"}, &o).isOk());
  EXPECT_FALSE(parse({"--backend", "tutti:/x"}, &o).isOk());
  EXPECT_FALSE(parse({"-n", "0"}, &o).isOk());
  EXPECT_FALSE(parse({"stray"}, &o).isOk());
  EXPECT_FALSE(parse({"-h=1"}, &o).isOk());
  Options h;
  ASSERT_TRUE(parse({"--help"}, &h).isOk());
  EXPECT_TRUE(h.help);
}

TEST(ParseOptions, Compress) {
  Options o;
  EXPECT_FALSE(o.compress.enabled);
  ASSERT_TRUE(parse({"--compress", "fp8_e4m3:64"}, &o).isOk());
  EXPECT_TRUE(o.compress.enabled);
  EXPECT_EQ(o.compress.codec, 1);
  EXPECT_EQ(o.compress.block, 64);
  ASSERT_TRUE(parse({"--compress=topk:0.05,internode"}, &o).isOk());
  EXPECT_EQ(o.compress.codec, 4);
  EXPECT_FLOAT_EQ(o.compress.topkFraction, 0.05f);
  EXPECT_TRUE(o.compress.interNodeOnly);
  EXPECT_TRUE(compressNeedsState(o.compress));
  EXPECT_EQ(describeCompressSpec(o.compress), "topk:0.05,internode");
  ASSERT_TRUE(parse({"--compress", "int8"}, &o).isOk());
  EXPECT_EQ(describeCompressSpec(o.compress), "int8:32");
  for (const char* bad : {"int9", "int8:48", "topk:0", "topk:1.5", "sign1:x", "int8,ring"}) {
    Options b;
    Status s = parse({"--compress", bad}, &b);
    EXPECT_FALSE(s.isOk()) << bad;
    EXPECT_NE(s.message().find("--compress"), std::string::npos) << s.message();
  }
}

TEST(CompressedWireBytes, AllReduceSendsTheLargestShardTwice) {
  CompressSpec s;
  s.block = 32;
  auto size = [](const CompressSpec&, size_t n, void*) -> size_t { return n + n / 8; };
  // 1000 elements = 32 blocks over 3 ranks: largest shard 11 blocks = 352 elements.
  EXPECT_EQ(compressedWireBytes(s, "all_reduce", 1000, 3, size, nullptr), 2u * 2u * 396u);
  EXPECT_EQ(compressedWireBytes(s, "reduce_scatter", 1000, 3, size, nullptr), 2u * 1125u);
  EXPECT_EQ(compressedWireBytes(s, "all_gather", 64, 4, size, nullptr), 3u * 72u);
  EXPECT_EQ(compressedWireBytes(s, "all_reduce", 10, 4, size, nullptr), 2u * 3u * 11u);
}

TEST(SizeSweep, FactorAndStep) {
  Options o;
  o.minBytes = 8;
  o.maxBytes = 1024;
  o.stepFactor = 2;
  std::vector<size_t> want = {8, 16, 32, 64, 128, 256, 512, 1024};
  EXPECT_EQ(sizeSweep(o), want);
  o.stepFactor = 4;
  EXPECT_EQ(sizeSweep(o), (std::vector<size_t>{8, 32, 128, 512}));
  o.stepFactor = 1;
  o.stepBytes = 300;
  EXPECT_EQ(sizeSweep(o), (std::vector<size_t>{8, 308, 608, 908}));
  o.minBytes = o.maxBytes = 32;
  EXPECT_EQ(sizeSweep(o), (std::vector<size_t>{32}));
}

TEST(SizeSweep, StopsWhenStuckOrOverflowing) {
  Options o;
  o.minBytes = 0;
  o.maxBytes = 64;
  o.stepFactor = 2;
  EXPECT_EQ(sizeSweep(o), (std::vector<size_t>{0}));  // 0 * 2 never advances
  o.minBytes = size_t{1} << 62;
  o.maxBytes = ~size_t{0};
  o.stepFactor = 8;
  EXPECT_EQ(sizeSweep(o).size(), 1u);
}

}  // namespace
}  // namespace tutti::perf
