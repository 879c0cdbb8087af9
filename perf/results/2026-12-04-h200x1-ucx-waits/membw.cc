// Memory-bandwidth load: T threads copy 256 MiB buffers for S seconds; prints GB/s copied.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
int main(int argc, char** argv) {
  int t = argc > 1 ? atoi(argv[1]) : 4;
  double s = argc > 2 ? atof(argv[2]) : 5;
  const size_t n = 256u << 20;
  std::atomic<size_t> bytes{0};
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
  std::vector<std::thread> th;
  for (int i = 0; i < t; ++i)
    th.emplace_back([&] {
      char* a = (char*)malloc(n);
      char* b = (char*)malloc(n);
      memset(a, 1, n);
      memset(b, 2, n);
      while (std::chrono::steady_clock::now() < end) {
        memcpy(b, a, n);
        bytes += n;
      }
    });
  for (auto& x : th) x.join();
  printf("membw threads %d copied %.1f GB/s (read+write %.1f)\n", t, bytes / s / 1e9,
         2 * bytes / s / 1e9);
}
