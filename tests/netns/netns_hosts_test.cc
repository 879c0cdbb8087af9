// The namespace hosts themselves: made and removed completely (also with processes still inside,
// and sets left by a crashed test), reachable from each other but not from the machine's own
// namespace, and a bad request leaves nothing behind.
#include "testing/netns_hosts.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace tutti::testing {
namespace {

bool namespaceExists(const std::string& ns) {
  return access(("/var/run/netns/" + ns).c_str(), F_OK) == 0;
}

int sh(const std::string& command) {
  int st = system(command.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string firstLine(const std::string& command) {
  std::string out;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[256];
    if (fgets(buf, sizeof(buf), p)) out = buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

TEST(NetnsHosts, MadeReachableAndRemoved) {
  std::string why;
  std::unique_ptr<NetnsHosts> hosts = NetnsHosts::create(2, &why);
  if (!hosts) GTEST_SKIP() << "skipped: " << why;
  const std::string h0 = hosts->hostName(0), h1 = hosts->hostName(1);
  const std::string sw = hosts->name() + "-sw";
  EXPECT_TRUE(namespaceExists(h0) && namespaceExists(h1) && namespaceExists(sw));
  // Each host holds lo and its one interface, with the address the helper reports.
  EXPECT_EQ(hosts->run(1, std::string("ip -4 -o addr show dev ") + NetnsHosts::ifname() +
                              " | grep -q 'inet " + hosts->address(1) + "/24'"),
            0);
  EXPECT_EQ(hosts->run(1, "ip -o link show lo | grep -q UP"), 0);
  // Host 0 reaches host 1 (a TCP listener in host 1, bash's /dev/tcp in host 0).
  const std::string port = "5399";
  const std::string listen =
      "timeout 10 python3 -c \"import socket; s=socket.socket(); "
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('" +
      hosts->address(1) + "', " + port + ")); s.listen(); c, _ = s.accept(); c.recv(1)\" &";
  ASSERT_EQ(hosts->run(1, listen), 0);
  EXPECT_EQ(
      hosts->run(0, "for i in 1 2 3 4 5 6 7 8 9 10; do timeout 2 bash -c 'echo x > /dev/tcp/" +
                        hosts->address(1) + "/" + port +
                        "' 2>/dev/null && exit 0; sleep 0.2; done; exit 1"),
      0);
  // Nothing was added to the machine's own namespace: no address of the test subnet there.
  const std::string subnet = hosts->address(0).substr(0, hosts->address(0).rfind('.') + 1);
  EXPECT_NE(sh("ip -4 -o addr | grep -qF ' " + subnet + "'"), 0);
  // A process left inside (as a crashed rank would be) does not keep the host alive.
  ASSERT_EQ(hosts->run(0, "sleep 300 >/dev/null 2>&1 &"), 0);
  const std::string sleeper = firstLine("ip netns pids " + h0 + " | head -1");
  ASSERT_FALSE(sleeper.empty());
  const std::string name = hosts->name();
  hosts.reset();
  EXPECT_FALSE(namespaceExists(h0) || namespaceExists(h1) || namespaceExists(sw));
  // Killed: gone, or a zombie waiting for whoever adopted it.
  EXPECT_NE(sh("grep -qv '^[0-9]* ([^)]*) Z' /proc/" + sleeper + "/stat 2>/dev/null"), 0)
      << "process " << sleeper << " survived removal";
  EXPECT_NE(sh("grep -q 'tutti-netns " + name + "$' /etc/hosts"), 0);
}

TEST(NetnsHosts, SetsOfDeadProcessesAreRemovedAndBadRequestsFailCleanly) {
  if (geteuid() != 0) GTEST_SKIP() << "skipped: network-namespace hosts need root";
  // A set named after a process that has exited, as a crashed test leaves it.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string stale = "tutti" + std::to_string(dead);
  if (sh(NetnsHosts::script() + " up " + stale + " 1 >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "skipped: cannot create network namespaces here";
  ASSERT_TRUE(namespaceExists(stale + "-h0"));
  // The next set made removes it (and its removal message does not confuse the helper).
  std::string why;
  std::unique_ptr<NetnsHosts> hosts = NetnsHosts::create(1, &why);
  ASSERT_NE(hosts, nullptr) << why;
  EXPECT_EQ(hosts->size(), 1);
  EXPECT_FALSE(namespaceExists(stale + "-h0")) << "the stale set was not removed";
  EXPECT_TRUE(namespaceExists(hosts->hostName(0)));
  // Nonsense is refused before anything is made.
  const std::string other = "tuttitest" + std::to_string(getpid());
  EXPECT_NE(sh(NetnsHosts::script() + " up " + other + " 0 2>/dev/null"), 0);
  EXPECT_NE(sh(NetnsHosts::script() + " up " + other + " x 2>/dev/null"), 0);
  EXPECT_NE(sh(NetnsHosts::script() + " up " + hosts->name() + " 1 2>/dev/null"), 0)
      << "a second set of the same name";
  EXPECT_FALSE(namespaceExists(other + "-sw"));
  EXPECT_NE(sh(NetnsHosts::script() + " exec " + other + " 0 true 2>/dev/null"), 0);
  EXPECT_NE(sh(NetnsHosts::script() + " exec " + hosts->name() + " 1 true 2>/dev/null"), 0)
      << "a host index past the set";
  EXPECT_EQ(sh(NetnsHosts::script() + " exec " + hosts->name() + " 0 true"), 0);
}

}  // namespace
}  // namespace tutti::testing
