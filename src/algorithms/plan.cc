// Names, parsing and printing for plans.
#include "algorithms/plan.h"

#include <strings.h>

#include <cctype>
#include <cstring>
#include <sstream>

namespace tutti {

const char* collectiveName(Collective c) {
  static const char* names[] = {"AllReduce", "AllGather", "ReduceScatter", "AllToAll", "AllToAllv",
                                "Broadcast", "Reduce",    "Send",          "Recv"};
  return c < Collective::kCount ? names[static_cast<int>(c)] : "?";
}

const char* algorithmName(Algorithm a) {
  static const char* names[] = {"auto",  "ring", "direct",       "two_shot", "pairwise",
                                "chain", "tree", "hierarchical", "p2p",      "recursive_doubling"};
  return a < Algorithm::kCount ? names[static_cast<int>(a)] : "?";
}

bool parseAlgorithm(const std::string& name, Algorithm* out) {
  std::string n;
  for (char c : name) n += static_cast<char>(c == '-' ? '_' : tolower(c));
  if (n == "one_shot" || n == "oneshot" || n == "direct") {
    *out = Algorithm::kDirect;
    return true;
  }
  if (n == "twoshot") {
    *out = Algorithm::kTwoShot;
    return true;
  }
  if (n == "rd" || n == "recursivedoubling") {
    *out = Algorithm::kRecursiveDoubling;
    return true;
  }
  if (n == "hier") {
    *out = Algorithm::kHierarchical;
    return true;
  }
  for (int i = 0; i < static_cast<int>(Algorithm::kCount); ++i)
    if (n == algorithmName(static_cast<Algorithm>(i))) {
      *out = static_cast<Algorithm>(i);
      return true;
    }
  return false;
}

const char* protocolName(Protocol p) {
  return p == Protocol::kSimple ? "simple" : p == Protocol::kLL ? "ll" : "?";
}

bool parseProtocol(const std::string& name, Protocol* out) {
  if (!strcasecmp(name.c_str(), "simple")) {
    *out = Protocol::kSimple;
    return true;
  }
  if (!strcasecmp(name.c_str(), "ll")) {
    *out = Protocol::kLL;
    return true;
  }
  return false;
}

void Plan::compact() {
  std::vector<PlanStep> kept;
  for (const PlanStep& s : steps)
    if (s.numOps) kept.push_back(s);
  steps.swap(kept);
}

std::string Plan::describe() const {
  auto bufName = [](BufferId b) {
    static const char* names[] = {"send", "recv", "scratch"};
    int i = static_cast<int>(b);
    return i < 3 ? std::string(names[i]) : "buf" + std::to_string(i - 3);
  };
  static const char* opNames[] = {"send", "recv", "recv_reduce", "copy", "reduce_many", "divide"};
  std::ostringstream os;
  os << collectiveName(collective) << " " << algorithmName(algorithm) << "/"
     << protocolName(protocol) << " steps=" << steps.size() << "\n";
  for (size_t s = 0; s < steps.size(); ++s) {
    os << "  step " << s << ":";
    for (uint32_t i = 0; i < steps[s].numOps; ++i) {
      const PlanOp& op = ops[steps[s].firstOp + i];
      os << " " << opNames[static_cast<int>(op.type)];
      if (op.type == OpType::kSend || op.type == OpType::kRecv || op.type == OpType::kRecvReduce)
        os << "(peer " << op.peer << ")";
      os << "[" << op.bytes << "B";
      if (op.type != OpType::kRecv && op.type != OpType::kDivide)
        os << " " << bufName(op.src.buf) << "+" << op.src.offset;
      if (op.type != OpType::kSend) os << " -> " << bufName(op.dst.buf) << "+" << op.dst.offset;
      os << "]";
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace tutti
