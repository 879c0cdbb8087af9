// TCP sockets with deadlines: listen, connect (retrying while the peer starts), exact-size
// send/receive, and interface selection (TUTTI_SOCKET_IFNAME).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <string>

#include "base/deadline.h"
#include "base/error.h"

namespace tutti {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  std::string toString() const;  // "10.0.0.1:1234" or "[fe80::1]:1234"
  int port() const;
  void setPort(int port);
  bool isLoopback() const;
};

// Parses "host:port", "[v6]:port" or "host" (port 0). Resolves names with getaddrinfo;
// with resolveNames false only numeric addresses are accepted (no lookup is made).
Result parseHostPort(const std::string& text, SocketAddress* out, bool resolveNames = true);

// The address this process advertises to peers: the first up interface matching
// TUTTI_SOCKET_IFNAME (or NCCL_SOCKET_IFNAME); without it the first of the most preferred class
// (defaultInterfaceClass: ib*, then others, then docker*/virbr*, loopback last). Syntax: "eth"
// (prefix), "=eth0" (exact), "^docker,lo" (exclude).
Result selectInterfaceAddress(SocketAddress* out, std::string* ifname);

class Socket {
 public:
  Socket() = default;
  ~Socket() { close(); }
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Binds and listens on `addr` (port 0 picks a free one).
  static Result listen(const SocketAddress& addr, Socket* out);
  // Connects, retrying refused connections until the deadline (peers start at different times).
  // With `retryRefused` false a refusal is final (tuttiRemoteError): for an address whose
  // listener is known to be open already.
  static Result connect(const SocketAddress& addr, Deadline deadline,
                        const std::atomic<bool>* abort, Socket* out, bool retryRefused = true);
  // Takes ownership of a connected descriptor (from a caller's own accept loop).
  static Socket adopt(int fd) { return Socket(fd); }
  Result accept(Deadline deadline, const std::atomic<bool>* abort, Socket* out,
                SocketAddress* peer = nullptr);

  Result sendAll(const void* data, size_t bytes, Deadline deadline,
                 const std::atomic<bool>* abort = nullptr);
  Result recvAll(void* data, size_t bytes, Deadline deadline,
                 const std::atomic<bool>* abort = nullptr);

  Result localAddress(SocketAddress* out) const;
  Result setNonBlocking();
  void setNoDelay();
  // Unblocks any thread waiting on this socket; the peer sees end of stream.
  void shutdown();
  void close();
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  explicit Socket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Sends `sbytes` on `out` while receiving `rbytes` on `in`, without either side blocking the
// other (a ring where every rank sends first would otherwise deadlock on full buffers).
Result sendRecv(Socket& out, const void* sdata, size_t sbytes, Socket& in, void* rdata,
                size_t rbytes, Deadline deadline, const std::atomic<bool>* abort);

}  // namespace tutti
