// Validation and names of codecs (see codec_spec.h).
#include "compression/codec_spec.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tutti {

namespace {
const char* const kNames[] = {"bf16", "fp8_e4m3", "fp8_e5m2", "int8", "topk", "sign1"};
}

const char* codecName(tuttiCodec_t codec) {
  return codec >= 0 && codec < tuttiNumCodecs ? kNames[codec] : "unknown";
}

bool codecNeedsErrorFeedback(tuttiCodec_t codec) {
  return codec == tuttiCodecTopK || codec == tuttiCodecSign1;
}

Result checkCompression(const tuttiCompression_t* c, CodecSpec* spec, bool* interNodeOnly) {
  if (!c) return setError(tuttiInvalidArgument, "compression is NULL");
  if (c->magic != TUTTI_COMPRESSION_MAGIC)
    return setError(tuttiInvalidArgument,
                    "compression was not initialised with TUTTI_COMPRESSION_INITIALIZER (bad "
                    "magic 0x%x)",
                    c->magic);
  if (c->size < sizeof(tuttiCompression_t))
    return setError(tuttiInvalidArgument,
                    "compression->size is %zu but this library's tuttiCompression_t has %zu bytes",
                    c->size, sizeof(tuttiCompression_t));
  if (c->codec < 0 || c->codec >= tuttiNumCodecs)
    return setError(tuttiInvalidArgument,
                    "compression->codec %d is not a tuttiCodec_t (bf16, fp8_e4m3, fp8_e5m2, int8, "
                    "topk, sign1)",
                    static_cast<int>(c->codec));
  if (c->blockSize != 32 && c->blockSize != 64 && c->blockSize != 128)
    return setError(tuttiInvalidArgument, "compression->blockSize %d is not 32, 64 or 128",
                    c->blockSize);
  if (c->codec == tuttiCodecTopK && !(c->topkFraction > 0.0f && c->topkFraction <= 1.0f))
    return setError(tuttiInvalidArgument,
                    "compression->topkFraction %g is not in (0, 1] (the fraction of elements "
                    "top-k keeps)",
                    static_cast<double>(c->topkFraction));
  if (c->flags & ~TUTTI_COMPRESS_INTER_NODE_ONLY)
    return setError(
        tuttiInvalidArgument,
        "compression->flags 0x%x has unknown bits (only TUTTI_COMPRESS_INTER_NODE_ONLY)", c->flags);
  spec->codec = c->codec;
  spec->block = c->blockSize;
  spec->topkFraction = c->topkFraction;
  *interNodeOnly = (c->flags & TUTTI_COMPRESS_INTER_NODE_ONLY) != 0;
  return tuttiSuccess;
}

std::string parseCompression(const std::string& text, tuttiCompression_t* out) {
  tuttiCompression_t c = TUTTI_COMPRESSION_INITIALIZER;
  const size_t colon = text.find(':');
  const std::string name = text.substr(0, colon);
  const std::string param = colon == std::string::npos ? "" : text.substr(colon + 1);
  int codec = -1;
  for (int i = 0; i < tuttiNumCodecs; ++i)
    if (name == kNames[i]) codec = i;
  if (name == "fp8") codec = tuttiCodecFp8E4M3;
  if (name == "1bit") codec = tuttiCodecSign1;
  if (codec < 0)
    return "unknown codec '" + name + "' (bf16, fp8_e4m3, fp8_e5m2, int8, topk, sign1)";
  c.codec = static_cast<tuttiCodec_t>(codec);
  if (!param.empty()) {
    char* end = nullptr;
    errno = 0;
    if (c.codec == tuttiCodecTopK) {
      double k = strtod(param.c_str(), &end);
      if (errno || *end || !(k > 0 && k <= 1))
        return "top-k fraction '" + param + "' is not a number in (0, 1]";
      c.topkFraction = static_cast<float>(k);
    } else {
      long b = strtol(param.c_str(), &end, 10);
      if (errno || *end || (b != 32 && b != 64 && b != 128))
        return "block size '" + param + "' is not 32, 64 or 128";
      c.blockSize = static_cast<int>(b);
    }
  }
  *out = c;
  return "";
}

std::string describeCompression(const CodecSpec& spec) {
  char buf[64];
  if (spec.codec == tuttiCodecTopK)
    snprintf(buf, sizeof(buf), "topk:%g", static_cast<double>(spec.topkFraction));
  else if (spec.codec == tuttiCodecBf16)
    snprintf(buf, sizeof(buf), "bf16");
  else
    snprintf(buf, sizeof(buf), "%s:%d", codecName(spec.codec), spec.block);
  return buf;
}

}  // namespace tutti
