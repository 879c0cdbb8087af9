// The harness registry of the corpus replay test (fuzz_target.h).
#include "fuzz/fuzz_target.h"

namespace tutti::fuzz {

std::vector<Target>& targets() {
  static std::vector<Target> all;
  return all;
}

}  // namespace tutti::fuzz
