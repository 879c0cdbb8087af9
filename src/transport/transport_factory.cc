// Transport registration and the setup loop.
#include "transport/transport_factory.h"

#include <cstring>
#include <sstream>

#include "base/env.h"
#include "base/logging.h"
#include "bootstrap/bootstrap.h"
#include "transport/shm_transport.h"
#include "transport/socket_transport.h"
#include "transport/ucx_transport.h"

namespace tutti {
namespace {

struct Registration {
  const char* name;
  std::unique_ptr<Transport> (*make)();
};

// Priority order: the first type that can connect a pair carries it. UCX is tried before
// sockets and carries only ranks on different hosts (ucx_transport.h).
const Registration kTransports[] = {
    {"shm", makeShmTransport},
    {"ucx", makeUcxTransport},
    {"socket", makeSocketTransport},
};
constexpr int kNumTransports = sizeof(kTransports) / sizeof(kTransports[0]);

std::string registeredNames() {
  std::string s;
  for (const Registration& r : kTransports) s += std::string(s.empty() ? "" : ", ") + r.name;
  return s;
}

// "shm to ranks 1-3, 5; socket to ranks 4, 6-7" for the INFO line.
std::string describeChoices(const PeerConnections& pc, int self) {
  std::ostringstream os;
  for (size_t t = 0; t < pc.types.size(); ++t) {
    std::vector<int> ranks;
    for (size_t p = 0; p < pc.typeOf.size(); ++p)
      if (pc.typeOf[p] == static_cast<int>(t)) ranks.push_back(static_cast<int>(p));
    if (ranks.empty()) continue;
    if (os.tellp() > 0) os << "; ";
    const std::string how = pc.types[t]->describe();
    os << pc.types[t]->name();
    if (!how.empty()) os << " (" << how << ")";
    os << " to rank" << (ranks.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < ranks.size();) {
      size_t j = i;
      while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
      os << (i ? ", " : "") << ranks[i];
      if (j > i) os << "-" << ranks[j];
      i = j + 1;
    }
  }
  if (os.tellp() == 0) os << "no peers";
  (void)self;
  return os.str();
}

}  // namespace

const char* PeerConnections::typeName(int peer) const {
  const int t = typeOf[peer];
  return t >= 0 ? types[t]->name() : "self";
}

void PeerConnections::markFailed() {
  for (auto& c : conns)
    if (c) c->markFailed();
}

void PeerConnections::abandonDirect() const {
  for (auto& c : conns)
    if (c) c->abandonDirect();
}

Result createTransports(PeerConnections* out) {
  out->types.clear();
  out->allowed.clear();
  std::string only = envString("TUTTI_TRANSPORT");
  if (only == "auto") only.clear();
  bool known = only.empty();
  // Every rank holds every registered type, so that the collective parts of connect() match
  // across ranks whatever each one's TUTTI_TRANSPORT says; the variable only limits choices.
  for (const Registration& r : kTransports) {
    out->types.push_back(r.make());
    out->allowed.push_back(only.empty() || only == r.name);
    known |= only == r.name;
  }
  if (!known)
    return setError(tuttiInvalidArgument, "TUTTI_TRANSPORT=%s: no such transport (registered: %s)",
                    only.c_str(), registeredNames().c_str());
  return tuttiSuccess;
}

Result prepareTransports(const TransportContext& ctx, PeerConnections* pc, PeerInfo* self) {
  for (auto& t : pc->types) TUTTI_CHECK(t->prepare(ctx, self), "preparing transport %s", t->name());
  return tuttiSuccess;
}

Result connectTransports(const TransportContext& ctx, PeerConnections* pc) {
  const int n = ctx.nranks, me = ctx.rank;
  pc->conns.clear();
  pc->conns.resize(n);
  pc->typeOf.assign(n, -1);
  // Row `me` of the choice matrix: the type (its registration index) for each peer.
  std::vector<int8_t> matrix(static_cast<size_t>(n) * n, -1);
  for (int p = 0; p < n; ++p) {
    if (p == me) continue;
    for (size_t t = 0; t < pc->types.size() && pc->typeOf[p] < 0; ++t)
      if (pc->allowed[t] && pc->types[t]->canConnect(ctx, me, p))
        pc->typeOf[p] = static_cast<int>(t);
    matrix[static_cast<size_t>(me) * n + p] = static_cast<int8_t>(pc->typeOf[p]);
  }
  // Every rank learns every row, so every rank finds the same disagreement and fails with it.
  TUTTI_CHECK(ctx.bootstrap->allGather(matrix.data(), n), "agreeing on transports");
  auto nameOf = [](int8_t c) {
    return c >= 0 && c < kNumTransports ? kTransports[c].name : "none";
  };
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b) {
      const int8_t ab = matrix[static_cast<size_t>(a) * n + b];
      const int8_t ba = matrix[static_cast<size_t>(b) * n + a];
      if (ab == ba && ab >= 0) continue;
      if (ab == ba)
        return setError(tuttiInvalidUsage,
                        "no transport can connect ranks %d and %d (TUTTI_TRANSPORT=%s; "
                        "registered: %s)",
                        a, b, envString("TUTTI_TRANSPORT", "unset").c_str(),
                        registeredNames().c_str());
      return setError(tuttiInvalidUsage,
                      "ranks disagree on a transport: rank %d would reach rank %d over %s but "
                      "rank %d would reach rank %d over %s (set the same TUTTI_TRANSPORT and "
                      "TUTTI_NET on every rank, and install UCX on all hosts or none)",
                      a, b, nameOf(ab), b, a, nameOf(ba));
    }
  // Types in registration order on every rank; a type no pair uses is skipped everywhere.
  for (size_t t = 0; t < pc->types.size(); ++t) {
    bool used = false;
    for (int8_t c : matrix) used |= c == static_cast<int8_t>(t);
    if (!used) continue;
    std::vector<int> peers;
    for (int p = 0; p < n; ++p)
      if (pc->typeOf[p] == static_cast<int>(t)) peers.push_back(p);
    TUTTI_CHECK(pc->types[t]->connect(ctx, peers, &pc->conns), "connecting %zu peer(s) over %s",
                peers.size(), pc->types[t]->name());
  }
  TUTTI_INFO("rank %d: %s", me, describeChoices(*pc, me).c_str());
  return tuttiSuccess;
}

}  // namespace tutti
