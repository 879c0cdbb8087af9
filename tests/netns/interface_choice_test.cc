// Which interface the bootstrap picks without TUTTI_SOCKET_IFNAME, as NCCL does: IPoIB first,
// then any other, then the docker and libvirt bridges (the same address on every machine, so
// peers cannot reach it), loopback last. Each case runs in a forked child inside a network
// namespace of its own, with stand-in interfaces made in the order that would mislead a
// first-found rule (empty bridges: no traffic, and no kernel module that some machines lack, as
// dummy links need); the namespace goes away with the child. Root only.
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bootstrap/socket.h"

namespace tutti {
namespace {

struct Iface {
  const char* name;
  const char* cidr;
};

// In a child in a fresh network namespace: loopback up, `ifaces` made in order, then the
// choice must be `want`. Exit codes: 0 as expected, 1 another choice, 2 could not set up.
int choiceIn(const std::vector<Iface>& ifaces, const std::string& want) {
  if (unshare(CLONE_NEWNET) != 0) return 2;
  if (system("ip link set lo up") != 0) return 2;
  for (const Iface& i : ifaces) {
    const std::string n = i.name;
    if (system(("ip link add " + n + " type bridge && ip addr add " + i.cidr + " dev " + n +
                " && ip link set " + n + " up")
                   .c_str()) != 0)
      return 2;
  }
  unsetenv("TUTTI_SOCKET_IFNAME");
  unsetenv("NCCL_SOCKET_IFNAME");
  SocketAddress a;
  std::string got;
  if (selectInterfaceAddress(&a, &got) != tuttiSuccess) {
    fprintf(stderr, "no choice: %s\n", lastError().c_str());
    return 1;
  }
  if (got != want)
    fprintf(stderr, "chose %s (%s), expected %s\n", got.c_str(), a.toString().c_str(),
            want.c_str());
  return got == want ? 0 : 1;
}

void expectChoice(const std::vector<Iface>& ifaces, const std::string& want) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped: network namespaces need root";
  fflush(stderr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(choiceIn(ifaces, want));
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  if (WEXITSTATUS(st) == 2) GTEST_SKIP() << "skipped: cannot make a namespace with bridge links";
  EXPECT_EQ(WEXITSTATUS(st), 0) << "expected " << want << " (the child's message is above)";
}

TEST(InterfaceChoice, BridgesComeAfterOtherInterfaces) {
  expectChoice(
      {{"docker0", "172.17.0.1/16"}, {"virbr0", "192.168.122.1/24"}, {"eth7", "10.88.0.2/24"}},
      "eth7");
}

TEST(InterfaceChoice, IpoibComesFirst) {
  expectChoice({{"eth7", "10.88.0.2/24"}, {"ib7", "10.89.0.2/24"}}, "ib7");
}

TEST(InterfaceChoice, BridgeBeforeLoopbackWhenNothingElse) {
  expectChoice({{"docker0", "172.17.0.1/16"}}, "docker0");
}

TEST(InterfaceChoice, LoopbackLast) { expectChoice({}, "lo"); }

}  // namespace
}  // namespace tutti
