// One harness, two builds: under libFuzzer (TUTTI_LIBFUZZER, clang -fsanitize=fuzzer) a
// TUTTI_FUZZ_TARGET is the binary's LLVMFuzzerTestOneInput; in the regular test suite it
// registers itself so that tests/unit/fuzz_corpus_test.cc replays every committed corpus
// file (seeds and the inputs of past findings) through it with any compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace tutti::fuzz {

using FuzzFn = int (*)(const uint8_t* data, size_t size);
struct Target {
  const char* name;
  FuzzFn fn;
};
// Registry of the harnesses linked into the replay test.
std::vector<Target>& targets();
inline bool registerTarget(const char* name, FuzzFn fn) {
  targets().push_back({name, fn});
  return true;
}

// Reads typed values off the front of the input; past the end everything reads as zero.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), left_(size) {}
  size_t left() const { return left_; }
  uint8_t byte() {
    if (!left_) return 0;
    --left_;
    return *p_++;
  }
  template <typename T>
  T value() {
    T v{};
    size_t n = left_ < sizeof(T) ? left_ : sizeof(T);
    if (n) memcpy(&v, p_, n);
    p_ += n;
    left_ -= n;
    return v;
  }
  void bytes(void* out, size_t n) {
    if (n == 0) return;  // `out` may be an empty vector's null data()
    memset(out, 0, n);
    size_t k = left_ < n ? left_ : n;
    if (k) memcpy(out, p_, k);
    p_ += k;
    left_ -= k;
  }
  // Up to the next '\n' (consumed, not returned), or the rest.
  std::string line() {
    size_t n = 0;
    while (n < left_ && p_[n] != '\n') ++n;
    std::string s(reinterpret_cast<const char*>(p_), n);
    size_t used = n < left_ ? n + 1 : n;
    p_ += used;
    left_ -= used;
    return s;
  }
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p_), left_);
    p_ += left_;
    left_ = 0;
    return s;
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

}  // namespace tutti::fuzz

// A property every input must keep; a violation is a finding (abort, so libFuzzer saves it).
#define FUZZ_CHECK(cond, ...)                                                           \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "fuzz property failed: %s (%s:%d): ", #cond, __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                                                     \
      fputc('\n', stderr);                                                              \
      abort();                                                                          \
    }                                                                                   \
  } while (0)

#ifdef TUTTI_LIBFUZZER
#define TUTTI_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#else
#define TUTTI_FUZZ_TARGET(name)                                   \
  static int tuttiFuzz_##name(const uint8_t* data, size_t size);  \
  [[maybe_unused]] static const bool tuttiFuzzRegistered_##name = \
      ::tutti::fuzz::registerTarget(#name, tuttiFuzz_##name);     \
  static int tuttiFuzz_##name(const uint8_t* data, size_t size)
#endif
