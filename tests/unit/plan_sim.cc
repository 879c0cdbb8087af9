// In-process plan runner mirroring the CPU executor's progress rules.
#include "unit/plan_sim.h"

#include <cstring>
#include <deque>
#include <sstream>

#include "algorithms/builders.h"
#include "cpu/host_reduce.h"

namespace tutti::testing {
namespace {

struct Message {
  Collective collective;
  size_t bytes;
  std::vector<char> data;  // written so far
  size_t read = 0;
};

struct Pipe {
  std::deque<Message> msgs;
  size_t inFlight = 0;  // bytes written and not yet read
};

struct RankState {
  Plan plan;
  std::vector<char> send, recv, scratch;
  size_t step = 0;
  bool started = false;
  std::vector<size_t> done;  // per op of the current step: bytes moved
  std::vector<bool> complete;
  std::vector<bool> headerSent;  // send ops: message created
};

}  // namespace

int64_t simInput(int rank, size_t j) { return static_cast<int64_t>(rank * 1000003 + j * 7 + 1); }

std::vector<int64_t> expectedOutput(Collective c, int n, int rank, size_t count, int root) {
  std::vector<int64_t> out;
  switch (c) {
    case Collective::kAllReduce:
    case Collective::kReduce:
      for (size_t j = 0; j < count; ++j) {
        int64_t s = 0;
        for (int r = 0; r < n; ++r) s += simInput(r, j);
        out.push_back(s);
      }
      break;
    case Collective::kReduceScatter:
      for (size_t j = 0; j < count; ++j) {
        int64_t s = 0;
        for (int r = 0; r < n; ++r) s += simInput(r, rank * count + j);
        out.push_back(s);
      }
      break;
    case Collective::kAllGather:
      for (int r = 0; r < n; ++r)
        for (size_t j = 0; j < count; ++j) out.push_back(simInput(r, j));
      break;
    case Collective::kBroadcast:
      for (size_t j = 0; j < count; ++j) out.push_back(simInput(root, j));
      break;
    default: break;
  }
  return out;
}

SimResult simulateCollective(Collective c, Algorithm algo, const RankLayout& layout, size_t count,
                             int root, bool inPlace, int channels, size_t fifoBytes) {
  const int n = layout.nranks;
  const size_t es = sizeof(int64_t);
  SimResult res;
  std::vector<RankState> ranks(n);
  const ReduceSpec spec{tuttiInt64, CombineKind::kSum};
  for (int r = 0; r < n; ++r) {
    CollArgs a;
    a.collective = c;
    a.dtype = tuttiInt64;
    a.elemSize = es;
    a.count = count;
    a.root = root;
    a.rank = r;
    a.nranks = n;
    a.inPlace = inPlace;  // builders may plan differently in place (direct AllReduce does)
    a.layout = &layout;
    a.channels = channels;
    a.chunkBytes = 24;  // small chunks: many pipelined steps even for small counts
    RankState& st = ranks[r];
    if (buildPlan(a, algo, &st.plan) != tuttiSuccess) {
      res.error = "buildPlan failed: " + lastError();
      return res;
    }
    res.maxSteps = std::max(res.maxSteps, static_cast<int>(st.plan.steps.size()));
    size_t inCount = c == Collective::kReduceScatter ? count * n : count;
    size_t outCount = c == Collective::kAllGather ? count * n : count;
    std::vector<int64_t> in(inCount);
    for (size_t j = 0; j < inCount; ++j) in[j] = simInput(r, j);
    st.recv.assign(outCount * es + 8, static_cast<char>(0x5A));
    st.scratch.assign(st.plan.scratchBytes + 8, static_cast<char>(0x3C));
    if (!inPlace) {
      st.send.resize(inCount * es + 8);
      memcpy(st.send.data(), in.data(), inCount * es);
    }
    if (inPlace) {
      // Emulate the API's in-place layouts with an offset into one buffer.
      if (c == Collective::kAllGather) {
        memcpy(st.recv.data() + r * count * es, in.data(), count * es);
        st.send.assign(st.recv.begin() + r * count * es, st.recv.begin() + (r + 1) * count * es);
      } else if (c == Collective::kReduceScatter) {
        st.send.resize(inCount * es + 8);
        memcpy(st.send.data(), in.data(), inCount * es);
      } else {
        memcpy(st.recv.data(), in.data(), inCount * es);
      }
    }
  }
  // In place, send and recv alias: run with shared storage by pointing send at recv.
  auto sendPtr = [&](RankState& st, int r) -> char* {
    if (!inPlace) return st.send.data();
    if (c == Collective::kAllGather) return st.recv.data() + r * count * es;
    if (c == Collective::kReduceScatter) return st.send.data();
    return st.recv.data();
  };
  auto recvPtr = [&](RankState& st, int r) -> char* {
    if (inPlace && c == Collective::kReduceScatter) return st.send.data() + r * count * es;
    return st.recv.data();
  };
  auto addr = [&](int r, const BufRef& b) -> char* {
    RankState& st = ranks[r];
    switch (b.buf) {
      case BufferId::kSend: return sendPtr(st, r) + b.offset;
      case BufferId::kRecv: return recvPtr(st, r) + b.offset;
      default: return st.scratch.data() + b.offset;
    }
  };
  std::vector<Pipe> pipes(n * n);
  std::vector<uint32_t> sendBusy(n * n, 0), recvBusy(n * n, 0);
  uint32_t pass = 0;
  for (int idle = 0; idle < 3;) {
    bool progressed = false, allDone = true;
    for (int r = 0; r < n; ++r) {
      RankState& st = ranks[r];
      while (st.step < st.plan.steps.size()) {
        const PlanStep& s = st.plan.steps[st.step];
        if (!st.started) {
          st.done.assign(s.numOps, 0);
          st.complete.assign(s.numOps, false);
          st.headerSent.assign(s.numOps, false);
          st.started = true;
        }
        ++pass;
        bool all = true;
        for (uint32_t i = 0; i < s.numOps; ++i) {
          if (st.complete[i]) continue;
          const PlanOp& op = st.plan.ops[s.firstOp + i];
          if (op.afterPrev && i > 0 && !st.complete[i - 1]) {
            all = false;
            continue;
          }
          if (op.type == OpType::kSend) {
            uint32_t& busy = sendBusy[r * n + op.peer];
            if (busy != pass) {
              Pipe& p = pipes[r * n + op.peer];
              if (!st.headerSent[i]) {
                p.msgs.push_back(Message{st.plan.collective, op.bytes, {}, 0});
                st.headerSent[i] = true;
                progressed = true;
              }
              Message& m = p.msgs.back();
              size_t room = fifoBytes > p.inFlight ? fifoBytes - p.inFlight : 0;
              size_t take = std::min(room, op.bytes - st.done[i]);
              if (take) {
                const char* src = addr(r, op.src) + st.done[i];
                m.data.insert(m.data.end(), src, src + take);
                st.done[i] += take;
                p.inFlight += take;
                progressed = true;
              }
              st.complete[i] = st.done[i] == op.bytes;
            }
            if (!st.complete[i]) busy = pass;
          } else if (op.type == OpType::kRecv || op.type == OpType::kRecvReduce) {
            uint32_t& busy = recvBusy[op.peer * n + r];
            if (busy != pass) {
              Pipe& p = pipes[op.peer * n + r];
              if (!p.msgs.empty()) {
                Message& m = p.msgs.front();
                if (m.bytes != op.bytes || m.collective != st.plan.collective) {
                  std::ostringstream os;
                  os << "rank " << r << " step " << st.step << " expected " << op.bytes
                     << " bytes from rank " << op.peer << ", message has " << m.bytes;
                  res.error = os.str();
                  return res;
                }
                size_t avail = m.data.size() - m.read;
                if (avail) {
                  char* dst = addr(r, op.dst) + st.done[i];
                  if (op.type == OpType::kRecv)
                    memcpy(dst, m.data.data() + m.read, avail);
                  else if (op.peerFirst)
                    hostCombine(spec, dst, m.data.data() + m.read, addr(r, op.src) + st.done[i],
                                avail / es);
                  else
                    hostCombine(spec, dst, addr(r, op.src) + st.done[i], m.data.data() + m.read,
                                avail / es);
                  m.read += avail;
                  st.done[i] += avail;
                  p.inFlight -= avail;
                  progressed = true;
                }
                if (m.read == m.bytes && m.data.size() == m.bytes) {
                  p.msgs.pop_front();
                  st.complete[i] = true;
                  progressed = true;
                }
              }
            }
            if (!st.complete[i]) busy = pass;
          } else {
            const size_t cnt = op.bytes / es;
            if (op.type == OpType::kCopy) {
              memmove(addr(r, op.dst), addr(r, op.src), op.bytes);
            } else if (op.type == OpType::kReduceMany) {
              std::vector<const void*> srcs;
              for (uint32_t k = 0; k < op.numSources; ++k)
                srcs.push_back(addr(r, st.plan.sources[op.firstSource + k]));
              hostCombineMany(spec, addr(r, op.dst), srcs.data(), static_cast<int>(srcs.size()),
                              cnt);
            } else if (op.type == OpType::kDivide) {
              hostDivide(tuttiInt64, addr(r, op.dst), addr(r, op.dst), cnt, n);
            }
            st.complete[i] = true;
            progressed = true;
          }
          all &= st.complete[i];
        }
        if (!all) break;
        ++st.step;
        st.started = false;
      }
      allDone &= st.step == st.plan.steps.size();
    }
    if (allDone) break;
    idle = progressed ? 0 : idle + 1;
    if (idle == 3) {
      std::ostringstream os;
      os << "deadlock:";
      for (int r = 0; r < n; ++r)
        os << " rank " << r << " at step " << ranks[r].step << "/" << ranks[r].plan.steps.size()
           << ";";
      res.error = os.str();
      return res;
    }
  }
  for (int r = 0; r < n; ++r) {
    for (auto& p : pipes)
      if (!p.msgs.empty()) {
        res.error = "messages left unread";
        return res;
      }
    size_t outCount = c == Collective::kAllGather ? count * n : count;
    std::vector<int64_t> out(outCount);
    memcpy(out.data(), recvPtr(ranks[r], r), outCount * es);
    res.out.push_back(std::move(out));
  }
  return res;
}

}  // namespace tutti::testing
