// TUTTI_SOCKET_IFNAME that matches nothing fails loudly, listing the interfaces that exist
// (a silent fallback to another interface is the classic multi-node mistake).
#include <gtest/gtest.h>
#include <stdlib.h>

#include "bootstrap/interface_list.h"
#include "bootstrap/socket.h"
#include "tutti/tutti.h"

namespace tutti {
namespace {

struct ScopedIfname {
  explicit ScopedIfname(const char* v) { setenv("TUTTI_SOCKET_IFNAME", v, 1); }
  ~ScopedIfname() { unsetenv("TUTTI_SOCKET_IFNAME"); }
};

TEST(InterfaceErrors, ListingNamesLoopback) {
  const std::string list = describeInterfaces();
  EXPECT_NE(list.find("lo (127.0.0.1, up, loopback)"), std::string::npos) << list;
}

TEST(InterfaceErrors, NoMatchListsWhatExists) {
  ScopedIfname env("=tutti-no-such-if0");
  SocketAddress a;
  std::string ifname;
  EXPECT_EQ(selectInterfaceAddress(&a, &ifname), tuttiInvalidArgument);
  const std::string msg = lastError();
  EXPECT_NE(msg.find("no usable network interface matches TUTTI_SOCKET_IFNAME==tutti-no-such-if0"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("interfaces here: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("lo (127.0.0.1"), std::string::npos) << msg;
}

// Excluding every interface is the same mistake.
TEST(InterfaceErrors, ExcludingEverythingListsWhatExists) {
  ScopedIfname env("^");
  SocketAddress a;
  // "^" alone names nothing: no preference, so something is chosen.
  EXPECT_EQ(selectInterfaceAddress(&a, nullptr), tuttiSuccess);
  ScopedIfname all("^lo,eth,en,wl,ib,docker,veth,br,bond,ifb,virbr,tun,tap,vx,ip6,sit");
  Result r = selectInterfaceAddress(&a, nullptr);
  if (r == tuttiSuccess) GTEST_SKIP() << "an interface with an unusual name exists here";
  EXPECT_NE(lastError().find("interfaces here: "), std::string::npos) << lastError();
}

// The public entry point: tuttiGetUniqueId picks the rendezvous interface the same way.
TEST(InterfaceErrors, UniqueIdFailsWithTheList) {
  ScopedIfname env("nosuchprefix");
  tuttiUniqueId id;
  EXPECT_EQ(tuttiGetUniqueId(&id), tuttiInvalidArgument);
  const std::string msg = tuttiGetLastError(nullptr);
  EXPECT_NE(msg.find("TUTTI_SOCKET_IFNAME=nosuchprefix"), std::string::npos) << msg;
  EXPECT_NE(msg.find("interfaces here: "), std::string::npos) << msg;
}

}  // namespace
}  // namespace tutti
