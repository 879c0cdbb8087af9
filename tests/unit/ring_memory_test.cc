// Staging rings: mapped when made within the budget, left to fault in past it.
#include "transport/ring_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace tutti {
namespace {

// How many of the pages wholly inside [p, p + bytes) are resident.
size_t residentPages(const char* p, size_t bytes, size_t* pages) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  *pages = (end - first) / page;
  std::vector<unsigned char> in(*pages);
  if (mincore(reinterpret_cast<void*>(first), end - first, in.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char c : in) n += c & 1;
  return n;
}

TEST(RingMemory, MappedNowHasEveryPageResidentAndZero) {
  const size_t bytes = 8u << 20;
  auto ring = newRing(bytes, true);
  size_t pages = 0;
  const size_t resident = residentPages(ring.get(), bytes, &pages);
  EXPECT_GT(pages, 2000u);
  EXPECT_EQ(resident, pages);
  for (size_t i = 0; i < bytes; i += 4096) ASSERT_EQ(ring[i], 0) << "byte " << i;
}

TEST(RingMemory, LeftToFaultInHoldsFewPages) {
  // Past glibc's largest mmap threshold (32 MiB), a block is always mapped on its own, untouched;
  // sanitizers may fill its first bytes, hence "most pages", not "every page".
  const size_t bytes = 48u << 20;
  auto ring = newRing(bytes, false);
  size_t pages = 0;
  const size_t resident = residentPages(ring.get(), bytes, &pages);
  EXPECT_GT(pages, 2000u);
  EXPECT_LT(resident, pages / 2);
}

TEST(RingMemory, BudgetIsOneGibibytePerRank) {
  EXPECT_TRUE(mapRingsAtInit(0));
  EXPECT_TRUE(mapRingsAtInit(128 * (size_t{8} << 20)));  // 128 peers of 8 MiB
  EXPECT_FALSE(mapRingsAtInit(129 * (size_t{8} << 20)));
}

}  // namespace
}  // namespace tutti
