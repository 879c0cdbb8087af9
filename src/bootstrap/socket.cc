// TCP socket helpers used by the bootstrap and the socket transport.
#include "bootstrap/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "base/env.h"
#include "base/logging.h"
#include "bootstrap/interface_list.h"
#include "bootstrap/interface_spec.h"

namespace tutti {
namespace {

constexpr int kPollSliceMs = 100;  // how often a blocked wait re-checks the abort flag

bool aborted(const std::atomic<bool>* abort) {
  return abort && abort->load(std::memory_order_relaxed);
}

// Waits for `events` on fd; returns tuttiSuccess when ready.
Result waitFd(int fd, short events, Deadline deadline, const std::atomic<bool>* abort,
              const char* what) {
  for (;;) {
    if (aborted(abort)) return setError(tuttiAborted, "%s: communicator aborted", what);
    int slice = deadline.remainingMs(kPollSliceMs);
    if (slice == 0 && deadline.expired()) return setError(tuttiTimeout, "%s: timed out", what);
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, slice);
    if (rc > 0) return tuttiSuccess;
    if (rc < 0 && errno != EINTR)
      return setError(tuttiSystemError, "%s: poll failed: %s", what, strerror(errno));
  }
}

}  // namespace

std::string SocketAddress::toString() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (storage.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "(no address)";
}

int SocketAddress::port() const {
  if (storage.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (storage.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

void SocketAddress::setPort(int port) {
  if (storage.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(static_cast<uint16_t>(port));
  else if (storage.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(static_cast<uint16_t>(port));
}

bool SocketAddress::isLoopback() const {
  if (storage.ss_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr) >> 24) == 127;
  if (storage.ss_family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
  return false;
}

Result parseHostPort(const std::string& text, SocketAddress* out, bool resolveNames) {
  std::string host = text, port = "0";
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos)
      return setError(tuttiInvalidArgument, "address '%s': missing ']'", text.c_str());
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':')
        return setError(tuttiInvalidArgument, "address '%s': expected ':' after ']'", text.c_str());
      port = text.substr(close + 2);
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string::npos && text.find(':') == colon) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
  }
  char* end = nullptr;
  long p = strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535)
    return setError(tuttiInvalidArgument, "address '%s': port '%s' is not in 0..65535",
                    text.c_str(), port.c_str());
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (!resolveNames) hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return setError(tuttiInvalidArgument, "address '%s': cannot resolve host '%s': %s",
                    text.c_str(), host.c_str(), gai_strerror(rc));
  memcpy(&out->storage, res->ai_addr, res->ai_addrlen);
  out->length = res->ai_addrlen;
  freeaddrinfo(res);
  out->setPort(static_cast<int>(p));
  return tuttiSuccess;
}

Result selectInterfaceAddress(SocketAddress* out, std::string* ifname) {
  std::string spec = envString("TUTTI_SOCKET_IFNAME", envString("NCCL_SOCKET_IFNAME"));
  const InterfaceSpec want = parseInterfaceSpec(spec);
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0)
    return setError(tuttiSystemError, "getifaddrs failed: %s", strerror(errno));
  // With a spec, the first interface it selects; without, the first of the most preferred
  // class (defaultInterfaceClass). Within one interface, IPv4 before IPv6.
  const ifaddrs* best = nullptr;
  int bestClass = 4;
  for (const ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    int fam = i->ifa_addr->sa_family;
    if (fam != AF_INET && fam != AF_INET6) continue;
    if (fam == AF_INET6 &&
        IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr))
      continue;  // link-local needs a scope id peers do not know
    if (!want.names.empty() && !want.selects(i->ifa_name)) continue;
    const int cls = want.names.empty()
                        ? defaultInterfaceClass(i->ifa_name, (i->ifa_flags & IFF_LOOPBACK) != 0)
                        : 0;
    if (cls < bestClass ||
        (best && cls == bestClass && fam == AF_INET && best->ifa_addr->sa_family != AF_INET &&
         !strcmp(best->ifa_name, i->ifa_name))) {
      best = i;
      bestClass = cls;
    }
  }
  if (!best) {
    freeifaddrs(ifs);
    // A silent fallback to another interface is the classic multi-node mistake: fail loudly,
    // saying what exists.
    if (!want.names.empty())
      return setError(tuttiInvalidArgument,
                      "no usable network interface matches TUTTI_SOCKET_IFNAME=%s (an up "
                      "interface with an IPv4 or global IPv6 address); interfaces here: %s",
                      spec.c_str(), describeInterfaces().c_str());
    return setError(tuttiSystemError, "no usable network interface; interfaces here: %s",
                    describeInterfaces().c_str());
  }
  out->length = best->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  memset(&out->storage, 0, sizeof(out->storage));
  memcpy(&out->storage, best->ifa_addr, out->length);
  out->setPort(0);
  if (ifname) *ifname = best->ifa_name;
  freeifaddrs(ifs);
  return tuttiSuccess;
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Result Socket::listen(const SocketAddress& addr, Socket* out) {
  int fd = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return setError(tuttiSystemError, "socket() failed: %s", strerror(errno));
  Socket s(fd);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length) != 0)
    return setError(tuttiSystemError, "cannot bind %s: %s", addr.toString().c_str(),
                    strerror(errno));
  if (::listen(fd, 1024) != 0)
    return setError(tuttiSystemError, "cannot listen on %s: %s", addr.toString().c_str(),
                    strerror(errno));
  *out = std::move(s);
  return tuttiSuccess;
}

Result Socket::connect(const SocketAddress& addr, Deadline deadline, const std::atomic<bool>* abort,
                       Socket* out, bool retryRefused) {
  int delayMs = 1;
  for (;;) {
    if (aborted(abort))
      return setError(tuttiAborted, "connecting to %s: aborted", addr.toString().c_str());
    int fd = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return setError(tuttiSystemError, "socket() failed: %s", strerror(errno));
    Socket s(fd);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length);
    if (rc != 0 && errno == EINPROGRESS) {
      Result r = waitFd(fd, POLLOUT, deadline, abort, "connecting");
      if (r != tuttiSuccess) {
        addErrorContext("connecting to %s", addr.toString().c_str());
        return r;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      int flags = fcntl(fd, F_GETFL);
      fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      s.setNoDelay();
      *out = std::move(s);
      return tuttiSuccess;
    }
    if (errno == ECONNREFUSED && !retryRefused)
      return setError(tuttiRemoteError, "nothing listens at %s (connection refused)",
                      addr.toString().c_str());
    bool retry = errno == ECONNREFUSED || errno == ETIMEDOUT || errno == ECONNRESET ||
                 errno == EHOSTUNREACH || errno == ENETUNREACH;
    if (!retry)
      return setError(tuttiSystemError, "cannot connect to %s: %s", addr.toString().c_str(),
                      strerror(errno));
    if (deadline.expired())
      return setError(tuttiTimeout, "cannot connect to %s before the timeout: %s",
                      addr.toString().c_str(), strerror(errno));
    std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
    delayMs = delayMs < 100 ? delayMs * 2 : 100;
  }
}

Result Socket::accept(Deadline deadline, const std::atomic<bool>* abort, Socket* out,
                      SocketAddress* peer) {
  TUTTI_TRY(waitFd(fd_, POLLIN, deadline, abort, "waiting for a connection"));
  SocketAddress a;
  a.length = sizeof(a.storage);
  int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&a.storage), &a.length, SOCK_CLOEXEC);
  if (fd < 0) return setError(tuttiSystemError, "accept failed: %s", strerror(errno));
  Socket s(fd);
  s.setNoDelay();
  if (peer) *peer = a;
  *out = std::move(s);
  return tuttiSuccess;
}

Result Socket::sendAll(const void* data, size_t bytes, Deadline deadline,
                       const std::atomic<bool>* abort) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::send(fd_, p, bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      bytes -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      TUTTI_TRY(waitFd(fd_, POLLOUT, deadline, abort, "sending"));
      continue;
    }
    return setError(tuttiRemoteError, "send failed, peer gone: %s", strerror(errno));
  }
  return tuttiSuccess;
}

Result Socket::recvAll(void* data, size_t bytes, Deadline deadline,
                       const std::atomic<bool>* abort) {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    ssize_t n = ::recv(fd_, p, bytes, MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      bytes -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return setError(tuttiRemoteError, "connection closed by peer");
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      TUTTI_TRY(waitFd(fd_, POLLIN, deadline, abort, "receiving"));
      continue;
    }
    return setError(tuttiRemoteError, "receive failed: %s", strerror(errno));
  }
  return tuttiSuccess;
}

Result Socket::localAddress(SocketAddress* out) const {
  out->length = sizeof(out->storage);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&out->storage), &out->length) != 0)
    return setError(tuttiSystemError, "getsockname failed: %s", strerror(errno));
  return tuttiSuccess;
}

Result Socket::setNonBlocking() {
  int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0)
    return setError(tuttiSystemError, "fcntl(O_NONBLOCK) failed: %s", strerror(errno));
  return tuttiSuccess;
}

void Socket::setNoDelay() {
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void Socket::shutdown() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Socket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Result sendRecv(Socket& out, const void* sdata, size_t sbytes, Socket& in, void* rdata,
                size_t rbytes, Deadline deadline, const std::atomic<bool>* abort) {
  const char* sp = static_cast<const char*>(sdata);
  char* rp = static_cast<char*>(rdata);
  while (sbytes > 0 || rbytes > 0) {
    if (aborted(abort)) return setError(tuttiAborted, "communicator aborted");
    pollfd fds[2];
    int n = 0, si = -1, ri = -1;
    if (sbytes > 0) {
      si = n;
      fds[n++] = {out.fd(), POLLOUT, 0};
    }
    if (rbytes > 0) {
      ri = n;
      fds[n++] = {in.fd(), POLLIN, 0};
    }
    int slice = deadline.remainingMs(kPollSliceMs);
    if (slice == 0 && deadline.expired()) return setError(tuttiTimeout, "exchange timed out");
    int rc = ::poll(fds, n, slice);
    if (rc < 0 && errno != EINTR)
      return setError(tuttiSystemError, "poll failed: %s", strerror(errno));
    if (rc <= 0) continue;
    if (si >= 0 && fds[si].revents) {
      ssize_t k = ::send(out.fd(), sp, sbytes, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        sp += k;
        sbytes -= static_cast<size_t>(k);
      } else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return setError(tuttiRemoteError, "send to next rank failed: %s", strerror(errno));
    }
    if (ri >= 0 && fds[ri].revents) {
      ssize_t k = ::recv(in.fd(), rp, rbytes, MSG_DONTWAIT);
      if (k > 0) {
        rp += k;
        rbytes -= static_cast<size_t>(k);
      } else if (k == 0)
        return setError(tuttiRemoteError, "previous rank closed the connection");
      else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return setError(tuttiRemoteError, "receive from previous rank failed: %s", strerror(errno));
    }
  }
  return tuttiSuccess;
}

}  // namespace tutti
