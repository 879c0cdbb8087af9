// Shared pieces of the namespace-host tests: one set of three hosts per test process, the
// transports to run over (sockets always, UCX when it is registered) and a skip helper.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "testing/netns_hosts.h"

namespace tutti::testing {

// The hosts of this test process (created on first use, removed at exit); null when
// namespaces cannot be made here, with the reason in *why.
const NetnsHosts* netnsHosts(std::string* why);

// True when UCX can carry a communicator here: a transport named "ucx" is registered and a
// two-rank communicator forced onto it (TUTTI_TRANSPORT=ucx) initialises. Checked once, in a
// child process (the test process never initialises UCX before forking ranks); otherwise
// *why says what failed.
bool ucxUsable(std::string* why);

// Environment that makes every cross-host pair use `net`: "socket", "socket_striped" (three
// TCP streams per peer in 16 KiB chunks, TUTTI_SOCKET_STREAMS) or "ucx".
std::vector<std::pair<std::string, std::string>> netEnv(const std::string& net);

// The transport type `net` connects cross-host pairs with ("socket" for both socket forms).
std::string netTransport(const std::string& net);

}  // namespace tutti::testing

// Skips the current test with a message when there are no namespace hosts.
#define TUTTI_NETNS_HOSTS_OR_SKIP(var)                                               \
  std::string var##Why;                                                              \
  const ::tutti::testing::NetnsHosts* var = ::tutti::testing::netnsHosts(&var##Why); \
  if (!var) GTEST_SKIP() << "skipped: " << var##Why
