// TUTTI_SHIM_COMPRESS: ncclAllReduce as a compressed AllReduce with per-buffer error feedback
// (data-parallel training reuses its gradient bucket buffers, so the buffer address and count
// identify a gradient across steps).
#include "shim/shim_compress.h"

#include <mutex>
#include <string>

#include "base/device.h"
#include "base/env.h"
#include "base/logging.h"
#include "compression/codec_spec.h"
#include "compression/compression_context.h"
#include "core/comm.h"
#include "core/group.h"
#include "shim/shim_error.h"

namespace tutti::shim {
namespace {

// States kept per communicator; past this many buffers the least recently used one goes.
constexpr size_t kMaxStates = 256;

struct Settings {
  bool enabled = false;
  tuttiCompression_t compression = TUTTI_COMPRESSION_INITIALIZER;
  size_t minBytes = 0;
};

// Read once: TUTTI_SHIM_COMPRESS=CODEC[:param][,internode], TUTTI_SHIM_COMPRESS_MIN_BYTES.
const Settings& settings() {
  static Settings s;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string text = envString("TUTTI_SHIM_COMPRESS");
    if (text.empty() || text == "0" || text == "none") return;
    bool interNode = false;
    const size_t comma = text.find(',');
    if (comma != std::string::npos) {
      if (text.substr(comma + 1) != "internode") {
        TUTTI_WARN(
            "TUTTI_SHIM_COMPRESS=%s: unknown option after ',' (only 'internode'); "
            "ncclAllReduce stays uncompressed",
            text.c_str());
        return;
      }
      interNode = true;
      text = text.substr(0, comma);
    }
    std::string err = parseCompression(text, &s.compression);
    if (!err.empty()) {
      TUTTI_WARN("TUTTI_SHIM_COMPRESS=%s: %s; ncclAllReduce stays uncompressed", text.c_str(),
                 err.c_str());
      return;
    }
    if (interNode) s.compression.flags |= TUTTI_COMPRESS_INTER_NODE_ONLY;
    const int64_t minBytes = envInt("TUTTI_SHIM_COMPRESS_MIN_BYTES", 1 << 20);
    s.minBytes = minBytes > 0 ? static_cast<size_t>(minBytes) : 0;
    s.enabled = true;
    TUTTI_INFO(
        "shim: ncclAllReduce of %zu bytes or more (sum/avg, float32/16, bfloat16) is "
        "compressed with %s%s, error feedback per buffer",
        s.minBytes, text.c_str(), interNode ? " (inter-node traffic only)" : "");
  });
  return s;
}

std::mutex gStatesMutex;  // guards every communicator's shimStates

// The state of (buffer, count, dtype, memory) on comm, created on first use.
Result stateFor(tuttiComm_t comm, const ShimCall& c, bool device, CompressState** out) {
  CompressionContext& ctx = compressionContext(comm);
  std::lock_guard<std::mutex> lock(gStatesMutex);
  const CompressionContext::ShimKey key{c.sendbuff, c.count, static_cast<int>(c.dtype), device};
  auto it = ctx.shimStates.find(key);
  if (it == ctx.shimStates.end()) {
    if (ctx.shimStates.size() >= kMaxStates) {
      auto oldest = ctx.shimStates.begin();
      for (auto e = ctx.shimStates.begin(); e != ctx.shimStates.end(); ++e)
        if (e->second.second < oldest->second.second) oldest = e;
      destroyCompressState(oldest->second.first);
      ctx.shimStates.erase(oldest);
    }
    tuttiCompressState_t s = nullptr;
    tuttiResult_t r = tuttiCompressStateCreate(&s, c.count, static_cast<tuttiDataType_t>(c.dtype),
                                               device ? tuttiMemoryDevice : tuttiMemoryHost, comm);
    if (r != tuttiSuccess) return r;
    it = ctx.shimStates.emplace(key, std::make_pair(s, uint64_t{0})).first;
  }
  it->second.second = ++ctx.shimClock;
  *out = it->second.first;
  return tuttiSuccess;
}

}  // namespace

bool shimCompressedAllReduce(const ShimCall& c, tuttiRedOp_t op, tuttiResult_t* result) {
  const Settings& s = settings();
  if (!s.enabled || c.kind != CallKind::kAllReduce || c.premul) return false;
  if (op != tuttiSum && op != tuttiAvg) return false;
  if (c.dtype != ncclFloat32 && c.dtype != ncclFloat16 && c.dtype != ncclBfloat16) return false;
  if (c.count == 0 || c.count * dtypeBytes(c.dtype) < s.minBytes) return false;
  if (c.comm->nranks < 2 || inGroup()) return false;  // grouped calls stay exact
  tuttiComm_t comm = c.comm->tutti.load();
  int device = -1;
  const bool onDevice = gpuIsDevicePointer(c.sendbuff, &device);
  CompressState* state = nullptr;
  *result = stateFor(comm, c, onDevice, &state);
  if (*result != tuttiSuccess) return true;
  *result = tuttiAllReduceCompressed(c.sendbuff, c.recvbuff, c.count,
                                     static_cast<tuttiDataType_t>(c.dtype), op, &s.compression,
                                     state, comm, static_cast<tuttiStream_t>(c.stream));
  return true;
}

}  // namespace tutti::shim
