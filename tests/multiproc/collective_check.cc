// Collective case runner: inputs from the shared seed, outputs poisoned before the call,
// every element compared with the reference (unwritten elements show up as the poison).
#include "multiproc/collective_check.h"

#include <cstring>
#include <sstream>
#include <vector>

#include "core/call_checks.h"
#include "core/comm.h"
#include "core/group.h"
#include "kernels/dtype_dispatch.h"
#include "testing/random.h"
#include "testing/reference.h"

namespace tutti::testing {
namespace {

constexpr unsigned char kPoison = 0xA5;

// AllToAllv layout shared by all ranks: rank r sends (r + p) % 3 + 1 + count elements to p.
size_t vCount(int from, int to, size_t count) { return (from + to) % 3 + count; }

struct Mismatches {
  int found = 0;
  std::ostringstream text;
  void add(const std::string& s) {
    if (s.empty()) return;
    if (found++ < 4) text << "\n    " << s;
  }
  std::string str() const {
    if (!found) return "";
    std::ostringstream os;
    os << found << " wrong element(s):" << text.str();
    return os.str();
  }
};

const DeviceMemoryOps* gDeviceOps = nullptr;

}  // namespace

void setDeviceMemoryOps(const DeviceMemoryOps* ops) { gDeviceOps = ops; }

std::string describe(const CollCase& c, int nranks) {
  std::ostringstream os;
  os << collectiveName(c.collective) << " " << typeName(c.dtype) << " " << redOpName(c.op)
     << " count=" << c.count << " nranks=" << nranks << (c.inPlace ? " in-place" : " out-of-place")
     << " root=" << c.root << " algo=" << (c.algorithm.empty() ? "auto" : c.algorithm)
     << (c.device ? " device" : " host") << (c.misalign ? " misaligned" : "");
  return os.str();
}

// The checks of the API, then the call goes to the executors as a device call.
static tuttiResult_t submitAsDevice(tuttiComm_t comm, const CollCase& c, tuttiRedOp_t op,
                                    const void* send, void* recv, const std::vector<size_t>& sc,
                                    const std::vector<size_t>& sd, const std::vector<size_t>& rc,
                                    const std::vector<size_t>& rd) {
  CollCall call;
  call.collective = c.collective;
  call.sendbuff = send;
  call.recvbuff = recv;
  call.count = c.collective == Collective::kAllToAllv ? 0 : c.count;
  call.dtype = c.dtype;
  call.op = op;
  call.root = c.root;
  call.stream = c.stream;
  if (c.collective == Collective::kAllToAllv) {
    call.sendCounts = sc;
    call.sendDispls = sd;
    call.recvCounts = rc;
    call.recvDispls = rd;
  }
  clearError();
  Result r = checkCall(comm, call);
  if (r != tuttiSuccess) return r;
  call.onDevice = true;
  r = submitCall(comm, std::move(call));
  if (r != tuttiSuccess) comm->recordError();
  return r;
}

std::string runCollectiveCase(tuttiComm_t comm, int rank, int n, const CollCase& c, uint64_t seed) {
  const size_t es = dtypeSize(c.dtype);
  const size_t cnt = c.count;
  comm->tuner.clearOverrides();
  if (!c.algorithm.empty() && comm->tuner.applyAlgoString(c.algorithm) != tuttiSuccess)
    return "bad algorithm: " + lastError();
  // Element counts of the input and output buffers.
  size_t inCount = cnt, outCount = cnt;
  std::vector<size_t> sc(n), sd(n), rc(n), rd(n);
  switch (c.collective) {
    case Collective::kAllGather: outCount = cnt * n; break;
    case Collective::kReduceScatter: inCount = cnt * n; break;
    case Collective::kAllToAll: inCount = outCount = cnt * n; break;
    case Collective::kAllToAllv: {
      size_t s = 0, r = 0;
      for (int p = 0; p < n; ++p) {
        sc[p] = vCount(rank, p, cnt);
        sd[p] = s;
        s += sc[p] + 1;  // gaps check that displacements are honoured
        rc[p] = vCount(p, rank, cnt);
        rd[p] = r;
        r += rc[p] + 2;
      }
      inCount = s;
      outCount = r;
      break;
    }
    default: break;
  }
  const bool reduces = c.collective == Collective::kAllReduce ||
                       c.collective == Collective::kReduceScatter ||
                       c.collective == Collective::kReduce;
  const tuttiRedOp_t genOp = reduces ? c.op : tuttiSum;
  const size_t shift = c.misalign ? std::max<size_t>(2, es) : 0;
  std::vector<char> inStore(std::max<size_t>(inCount, 1) * es + shift),
      outStore(std::max<size_t>(outCount, 1) * es + shift, kPoison);
  // Views at the (possibly misaligned) offset; everything below indexes through them.
  struct View {
    char* p;
    size_t n;
    char* data() { return p; }
    size_t size() const { return n; }
    char& operator[](size_t i) { return p[i]; }
  } in{inStore.data() + shift, inStore.size() - shift},
      out{outStore.data() + shift, outStore.size() - shift};
  fillInput(in.data(), inCount, seed, rank, c.dtype, genOp, n);
  // Input element index j of rank r, regenerated anywhere.
  auto input = [&](int r, size_t j) { return inputValue(seed, r, j, c.dtype, genOp, n); };

  const void* send = in.data();
  void* recv = out.data();
  if (c.inPlace) {
    switch (c.collective) {
      case Collective::kAllGather:
        memcpy(out.data() + rank * cnt * es, in.data(), cnt * es);
        send = out.data() + rank * cnt * es;
        break;
      case Collective::kReduceScatter:
        send = in.data();
        recv = in.data() + rank * cnt * es;
        break;
      case Collective::kAllToAllv: break;  // not in place by contract
      default:
        memcpy(out.data(), in.data(), std::min(in.size(), out.size()));
        send = out.data();
        break;
    }
  }

  void* hostRecv = recv;  // results are checked in the host copy
  // On the device the same layout is mirrored: pointers keep their offsets from the bases.
  char* devIn = nullptr;
  char* devOut = nullptr;
  if (c.device) {
    if (!gDeviceOps) return "no device memory ops installed";
    devIn = static_cast<char*>(gDeviceOps->alloc(inStore.size()));
    devOut = static_cast<char*>(gDeviceOps->alloc(outStore.size()));
    gDeviceOps->toDevice(devIn, inStore.data(), inStore.size());
    gDeviceOps->toDevice(devOut, outStore.data(), outStore.size());
    auto mapPtr = [&](const void* p) -> char* {
      const char* h = static_cast<const char*>(p);
      if (h >= inStore.data() && h < inStore.data() + inStore.size())
        return devIn + (h - inStore.data());
      return devOut + (h - outStore.data());
    };
    send = mapPtr(send);
    recv = mapPtr(recv);
  }
  // PreMulSum: this rank's operator, with its own scalar.
  tuttiRedOp_t op = c.op;
  if (reduces && c.op == kTestPreMulSum) {
    uint64_t scalar = 0;
    storeValue(&scalar, 0, c.dtype, premulTestScalar(c.dtype, rank));
    if (tuttiRedOpCreatePreMulSum(&op, &scalar, c.dtype, comm) != tuttiSuccess)
      return std::string("tuttiRedOpCreatePreMulSum failed: ") + tuttiGetLastError(comm);
  }
  tuttiResult_t res = tuttiSuccess;
  if (c.forceDevicePath) {
    res = submitAsDevice(comm, c, op, send, recv, sc, sd, rc, rd);
  } else
    switch (c.collective) {
      case Collective::kAllReduce:
        res = tuttiAllReduce(send, recv, cnt, c.dtype, op, comm, c.stream);
        break;
      case Collective::kAllGather:
        res = tuttiAllGather(send, recv, cnt, c.dtype, comm, c.stream);
        break;
      case Collective::kReduceScatter:
        res = tuttiReduceScatter(send, recv, cnt, c.dtype, op, comm, c.stream);
        break;
      case Collective::kAllToAll:
        res = tuttiAllToAll(send, recv, cnt, c.dtype, comm, c.stream);
        break;
      case Collective::kAllToAllv:
        res = tuttiAllToAllv(send, sc.data(), sd.data(), recv, rc.data(), rd.data(), c.dtype, comm,
                             c.stream);
        break;
      case Collective::kBroadcast:
        res = tuttiBroadcast(send, recv, cnt, c.dtype, c.root, comm, c.stream);
        break;
      case Collective::kReduce:
        res = tuttiReduce(send, recv, cnt, c.dtype, op, c.root, comm, c.stream);
        break;
      default: return "unsupported case";
    }
  if (op != c.op && tuttiRedOpDestroy(op, comm) != tuttiSuccess)
    return std::string("tuttiRedOpDestroy failed: ") + tuttiGetLastError(comm);
  if (c.device) {
    if (res == tuttiSuccess) gDeviceOps->sync(c.stream);
    gDeviceOps->toHost(inStore.data(), devIn, inStore.size());
    gDeviceOps->toHost(outStore.data(), devOut, outStore.size());
    gDeviceOps->release(devIn);
    gDeviceOps->release(devOut);
    if (res == tuttiSuccess) {
      tuttiResult_t async = tuttiSuccess;
      tuttiCommGetAsyncError(comm, &async);
      if (async != tuttiSuccess)
        return std::string("asynchronous error: ") + tuttiGetLastError(comm);
    }
  }
  if (res != tuttiSuccess) return std::string("call failed: ") + tuttiGetLastError(comm);

  Mismatches mm;
  const char* result = static_cast<const char*>(hostRecv);
  std::vector<double> vals(n);
  auto reduced = [&](size_t j, double* tol) {
    for (int r = 0; r < n; ++r)
      vals[r] = input(r, j) * (c.op == kTestPreMulSum ? premulTestScalar(c.dtype, r) : 1.0);
    *tol = tolerance(vals, c.dtype, c.op);
    return referenceReduce(vals, c.dtype, c.op);
  };
  switch (c.collective) {
    case Collective::kAllReduce:
      for (size_t i = 0; i < cnt; ++i) {
        double tol, ref = reduced(i, &tol);
        mm.add(checkElement(loadValue(result, i, c.dtype), ref, tol, i));
      }
      break;
    case Collective::kReduce:
      if (rank == c.root) {
        for (size_t i = 0; i < cnt; ++i) {
          double tol, ref = reduced(i, &tol);
          mm.add(checkElement(loadValue(result, i, c.dtype), ref, tol, i));
        }
      } else if (!c.inPlace) {
        for (size_t b = 0; b < cnt * es; ++b)
          if (static_cast<unsigned char>(out[b]) != kPoison) {
            mm.add("non-root receive buffer was written at byte " + std::to_string(b));
            break;
          }
      }
      break;
    case Collective::kReduceScatter:
      for (size_t i = 0; i < cnt; ++i) {
        double tol, ref = reduced(rank * cnt + i, &tol);
        mm.add(checkElement(loadValue(result, i, c.dtype), ref, tol, i));
      }
      break;
    case Collective::kAllGather:
      for (int r = 0; r < n; ++r)
        for (size_t i = 0; i < cnt; ++i)
          mm.add(
              checkElement(loadValue(result, r * cnt + i, c.dtype), input(r, i), 0, r * cnt + i));
      break;
    case Collective::kAllToAll:
      for (int p = 0; p < n; ++p)
        for (size_t i = 0; i < cnt; ++i)
          mm.add(checkElement(loadValue(result, p * cnt + i, c.dtype), input(p, rank * cnt + i), 0,
                              p * cnt + i));
      break;
    case Collective::kAllToAllv:
      for (int p = 0; p < n; ++p) {
        // Rank p's displacement for us: recompute its send layout.
        size_t pdisp = 0;
        for (int q = 0; q < rank; ++q) pdisp += vCount(p, q, cnt) + 1;
        for (size_t i = 0; i < rc[p]; ++i)
          mm.add(checkElement(loadValue(result, rd[p] + i, c.dtype), input(p, pdisp + i), 0,
                              rd[p] + i));
        {
          const unsigned char* gap =
              reinterpret_cast<const unsigned char*>(result) + (rd[p] + rc[p]) * es;
          if (gap[0] != kPoison)
            mm.add("AllToAllv wrote into the gap after block " + std::to_string(p));
        }
      }
      break;
    case Collective::kBroadcast:
      for (size_t i = 0; i < cnt; ++i)
        mm.add(checkElement(loadValue(result, i, c.dtype), input(c.root, i), 0, i));
      break;
    default: break;
  }
  return mm.str();
}

}  // namespace tutti::testing
