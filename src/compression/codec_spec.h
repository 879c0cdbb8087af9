// Checking a public tuttiCompression_t into the internal CodecSpec, codec names, and the
// "CODEC[:PARAM]" strings that TUTTI_SHIM_COMPRESS and tests use.
#pragma once

#include <string>

#include "base/error.h"
#include "kernels/codecs/codec_layout.h"
#include "tutti/tutti.h"

namespace tutti {

using codec::CodecSpec;

// Validates every field (size, magic, codec, block size, top-k fraction, flags) and names the
// one at fault. *interNodeOnly receives the TUTTI_COMPRESS_INTER_NODE_ONLY flag.
Result checkCompression(const tuttiCompression_t* c, CodecSpec* spec, bool* interNodeOnly);

const char* codecName(
    tuttiCodec_t codec);  // "bf16", "fp8_e4m3", "fp8_e5m2", "int8", "topk", "sign1"
// Top-k and 1-bit need error feedback: without it their error never returns to the sum.
bool codecNeedsErrorFeedback(tuttiCodec_t codec);

// Parses "int8", "fp8_e4m3:64", "topk:0.01", "sign1:128", "bf16" into *out (fields set from
// TUTTI_COMPRESSION_INITIALIZER, then the codec and its parameter). Returns "" or the reason.
std::string parseCompression(const std::string& text, tuttiCompression_t* out);
// "int8:32", "topk:0.01", "bf16": the inverse of parseCompression.
std::string describeCompression(const CodecSpec& spec);

}  // namespace tutti
