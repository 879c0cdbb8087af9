// Parsing of --compress and the wire-byte count of compressed collectives.
#include "harness/compress_spec.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace tutti::perf {
namespace {
const char* const kNames[] = {"bf16", "fp8_e4m3", "fp8_e5m2", "int8", "topk", "sign1"};
}

Status parseCompressSpec(const std::string& text, CompressSpec* out) {
  CompressSpec s;
  s.enabled = true;
  s.text = text;
  std::string body = text;
  const size_t comma = body.find(',');
  if (comma != std::string::npos) {
    const std::string extra = body.substr(comma + 1);
    if (extra != "internode")
      return Status::error("unknown --compress option '%s' (only ',internode')", extra.c_str());
    s.interNodeOnly = true;
    body = body.substr(0, comma);
  }
  const size_t colon = body.find(':');
  const std::string name = body.substr(0, colon);
  const std::string param = colon == std::string::npos ? "" : body.substr(colon + 1);
  s.codec = -1;
  for (int i = 0; i < 6; ++i)
    if (name == kNames[i]) s.codec = i;
  if (name == "fp8") s.codec = 1;
  if (name == "1bit") s.codec = 5;
  if (s.codec < 0)
    return Status::error("unknown codec '%s' (bf16, fp8_e4m3, fp8_e5m2, int8, topk, sign1)",
                         name.c_str());
  if (!param.empty()) {
    char* end = nullptr;
    errno = 0;
    if (s.codec == 4) {
      double k = strtod(param.c_str(), &end);
      if (errno || *end || !(k > 0 && k <= 1))
        return Status::error("top-k fraction '%s' is not in (0, 1]", param.c_str());
      s.topkFraction = static_cast<float>(k);
    } else {
      long b = strtol(param.c_str(), &end, 10);
      if (errno || *end || (b != 32 && b != 64 && b != 128))
        return Status::error("block size '%s' is not 32, 64 or 128", param.c_str());
      s.block = static_cast<int>(b);
    }
  }
  *out = s;
  return Status::ok();
}

bool compressNeedsState(const CompressSpec& spec) { return spec.codec == 4 || spec.codec == 5; }

std::string describeCompressSpec(const CompressSpec& spec) {
  char buf[64];
  if (spec.codec == 4)
    snprintf(buf, sizeof(buf), "topk:%g", static_cast<double>(spec.topkFraction));
  else if (spec.codec == 0)
    snprintf(buf, sizeof(buf), "bf16");
  else
    snprintf(buf, sizeof(buf), "%s:%d", kNames[spec.codec], spec.block);
  return std::string(buf) + (spec.interNodeOnly ? ",internode" : "");
}

size_t compressedWireBytes(const CompressSpec& spec, const std::string& collective, size_t count,
                           int nranks, size_t (*segmentBytes)(const CompressSpec&, size_t, void*),
                           void* ctx) {
  const size_t peers = static_cast<size_t>(nranks - 1);
  if (collective == "all_reduce") {
    const size_t b = static_cast<size_t>(spec.block);
    const size_t blocks = (count + b - 1) / b;
    size_t shard = (blocks + nranks - 1) / nranks * b;
    if (shard > count) shard = count;
    return 2 * peers * segmentBytes(spec, shard, ctx);
  }
  return peers *
         segmentBytes(spec, count, ctx);  // reduce_scatter: recvcount; all_gather: sendcount
}

}  // namespace tutti::perf
