// libibverbs NIC description: the (speed, width) -> Gb/s table, a library that cannot load, a
// library without the verbs functions, and a machine with no RDMA device (this one).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "topology/nic_verbs.h"

namespace tutti {
namespace {

TEST(NicVerbs, SpeedAndWidthCodesGiveTheLinkRate) {
  EXPECT_DOUBLE_EQ(verbsPortGbps(128, 2), 400);  // NDR 4x
  EXPECT_DOUBLE_EQ(verbsPortGbps(64, 2), 200);   // HDR 4x
  EXPECT_DOUBLE_EQ(verbsPortGbps(64, 16), 100);  // HDR 2x
  EXPECT_DOUBLE_EQ(verbsPortGbps(32, 2), 100);   // EDR 4x
  EXPECT_DOUBLE_EQ(verbsPortGbps(16, 2), 56);    // FDR 4x
  EXPECT_DOUBLE_EQ(verbsPortGbps(8, 2), 40);     // FDR10 4x
  EXPECT_DOUBLE_EQ(verbsPortGbps(4, 8), 120);    // QDR 12x
  EXPECT_DOUBLE_EQ(verbsPortGbps(2, 4), 40);     // DDR 8x
  EXPECT_DOUBLE_EQ(verbsPortGbps(1, 1), 2.5);    // SDR 1x
  EXPECT_DOUBLE_EQ(verbsPortGbps(256, 2), 800);  // XDR 4x (active_speed_ex)
  // Unknown codes say "unknown", never a made-up rate.
  EXPECT_EQ(verbsPortGbps(0, 2), 0);
  EXPECT_EQ(verbsPortGbps(3, 2), 0);
  EXPECT_EQ(verbsPortGbps(64, 0), 0);
  EXPECT_EQ(verbsPortGbps(64, 3), 0);
}

struct ScopedEnv {
  explicit ScopedEnv(const char* value) { setenv("TUTTI_IBVERBS_LIB", value, 1); }
  ~ScopedEnv() { unsetenv("TUTTI_IBVERBS_LIB"); }
};

TEST(NicVerbs, MissingLibraryIsReportedNotFatal) {
  ScopedEnv env("/nonexistent/libibverbs.so.1");
  std::vector<VerbsPort> ports(3);
  std::string why;
  EXPECT_EQ(queryVerbsPorts(&ports, &why), VerbsStatus::kNoLibrary);
  EXPECT_TRUE(ports.empty());
  EXPECT_NE(why.find("dlopen(/nonexistent/libibverbs.so.1)"), std::string::npos) << why;
}

TEST(NicVerbs, LibraryWithoutVerbsFunctionsIsReported) {
  ScopedEnv env("libm.so.6");
  std::vector<VerbsPort> ports;
  std::string why;
  EXPECT_EQ(queryVerbsPorts(&ports, &why), VerbsStatus::kNoLibrary);
  EXPECT_NE(why.find("lacks the ibv_* device functions"), std::string::npos) << why;
}

TEST(NicVerbs, NoDevicesHere) {
  void* h = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) GTEST_SKIP() << "libibverbs.so.1 is not installed";
  std::vector<VerbsPort> ports;
  std::string why;
  const VerbsStatus s = queryVerbsPorts(&ports, &why);
  if (s == VerbsStatus::kOk) GTEST_SKIP() << "this machine has RDMA devices: " << why;
  EXPECT_EQ(s, VerbsStatus::kNoDevices) << why;
  EXPECT_TRUE(ports.empty());
  EXPECT_NE(why.find("no RDMA device"), std::string::npos) << why;
}

}  // namespace
}  // namespace tutti
