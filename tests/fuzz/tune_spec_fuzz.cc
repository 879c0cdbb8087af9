// TUTTI_TUNE, TUTTI_ALGO and TUTTI_PROTO on a tuner built for a random shape, then decisions
// at assorted sizes. Input: shape bytes, then "<tune>\n<algo>\n<proto>\n<byte count>".
#include "algorithms/tuner.h"
#include "base/env.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

namespace {

// parseBytes must accept exactly <digits>[k|m|g][b] whose value fits 64 bits.
void checkBytes(const std::string& text) {
  uint64_t got = 0;
  const bool ok = parseBytes(text, &got);
  size_t i = 0;
  unsigned __int128 v = 0;
  bool fits = !text.empty();
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + (text[i++] - '0');
    if (v > UINT64_MAX) fits = false;
  }
  fits = fits && i > 0;
  unsigned shift = 0;
  if (i < text.size()) {
    const char c = static_cast<char>(tolower(static_cast<unsigned char>(text[i])));
    shift = c == 'k' ? 10 : c == 'm' ? 20 : c == 'g' ? 30 : 0;
    if (shift) ++i;
  }
  if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) ++i;
  fits = fits && i == text.size() && (v << shift) <= UINT64_MAX;
  FUZZ_CHECK(ok == fits, "parseBytes('%s') = %d", text.c_str(), ok);
  if (ok)
    FUZZ_CHECK(got == static_cast<uint64_t>(v << shift), "parseBytes('%s') = %llu", text.c_str(),
               (unsigned long long)got);
}

}  // namespace

TUTTI_FUZZ_TARGET(tune_spec) {
  fuzz::Input in(data, size);
  TunerContext ctx;
  ctx.nranks = 1 + in.byte() % 64;
  ctx.nodes = 1 + in.byte() % ctx.nranks;
  if (in.byte() & 1) {  // a GPU communicator: the direct executor is the main one
    ctx.executors = {ExecutorKind::kCpu, ExecutorKind::kGpuDirect};
    ctx.primary = ExecutorKind::kGpuDirect;
  }
  static Tuner* tuner = new Tuner();  // reused: init() resets it
  FUZZ_CHECK(tuner->init(ctx) == tuttiSuccess, "init: %s", lastError().c_str());
  const std::string tune = in.line(), algo = in.line(), proto = in.line(), bytes = in.line();
  checkBytes(bytes);
  (void)tuner->applyTuneString(tune);
  (void)tuner->applyAlgoString(algo);
  (void)tuner->applyProtoString(proto);
  uint64_t b = 0;
  std::vector<size_t> sizes = {0, 1, 4096, 65536, 1 << 20, size_t{1} << 34, SIZE_MAX};
  if (parseBytes(bytes, &b)) sizes.push_back(b);
  for (ExecutorKind e : ctx.executors)
    for (int c = 0; c < static_cast<int>(Collective::kCount); ++c)
      for (size_t s : sizes) {
        TunerChoice ch = tuner->decide(e, static_cast<Collective>(c), s, true);
        FUZZ_CHECK(ch.algorithm < Algorithm::kCount, "algorithm %d",
                   static_cast<int>(ch.algorithm));
        // What it returns as supported, the executor runs.
        FUZZ_CHECK(!ch.supported ||
                       capabilitiesOf(e).has(static_cast<Collective>(c), ch.algorithm, ch.protocol),
                   "%s chose %s for %s", executorKindName(e), algorithmName(ch.algorithm),
                   collectiveName(static_cast<Collective>(c)));
      }
  for (ExecutorKind e : ctx.executors) (void)tuner->describe(e);
  return 0;
}
