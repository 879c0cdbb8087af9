// TUTTI_TUNER_PARAMS on any text; accepted parameters must give the model numbers, never NaN.
#include <cmath>

#include "algorithms/cost_model.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

TUTTI_FUZZ_TARGET(tuner_params) {
  fuzz::Input in(data, size);
  ModelShape s;
  s.basis = in.byte() & 1 ? ModelBasis::kGpu : ModelBasis::kCpu;
  s.nranks = 1 + in.byte() % 64;
  s.nodes = 1 + in.byte() % s.nranks;
  s.localRanks = s.nranks % s.nodes == 0 ? s.nranks / s.nodes : 0;
  ModelParams p = ModelParams::defaults();
  if (p.apply(in.rest()) != tuttiSuccess) return 0;
  // Chunk sizes arrive as doubles; accepted ones must be what the text said, in range.
  FUZZ_CHECK(p.treeChunkBytes > 0 && p.treeChunkBytes <= (size_t{1} << 40) &&
                 p.chainChunkBytes > 0 && p.chainChunkBytes <= (size_t{1} << 40),
             "chunks %zu / %zu", p.treeChunkBytes, p.chainChunkBytes);
  (void)p.describe();
  for (int c = 0; c < static_cast<int>(Collective::kCount); ++c)
    for (int a = 0; a < static_cast<int>(Algorithm::kCount); ++a)
      for (int pr = 0; pr < 2; ++pr)
        for (size_t bytes : {size_t{0}, size_t{1}, size_t{1} << 20, size_t{1} << 40}) {
          Prediction r = predict(p, s, static_cast<Collective>(c), static_cast<Algorithm>(a),
                                 static_cast<Protocol>(pr), bytes);
          if (!r.valid) continue;
          FUZZ_CHECK(!std::isnan(r.us) && r.us >= 0, "time %g for collective %d algorithm %d", r.us,
                     c, a);
        }
  return 0;
}
