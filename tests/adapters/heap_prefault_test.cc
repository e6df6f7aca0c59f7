#include "adapters/heap_prefault.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#ifdef MESHFED_WITH_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

namespace meshfed {
namespace {

// Pages of [p, p + size) the kernel holds in memory now.
size_t ResidentPages(void* p, size_t size) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in_core((size + page - 1) / page);
  if (mincore(p, size, in_core.data()) != 0) return 0;
  size_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  return resident;
}

// The memory tcmalloc obtains for its heap is resident before anything touches it, in aligned
// 2 MiB blocks; fresh memory from the kernel is not resident (so the check can tell them apart);
// and MESHFED_HEAP_PREFAULT=0 keeps it off.
TEST(HeapPrefault, TheHeapsNewMemoryIsResidentBeforeItIsTouched) {
  const size_t size = 16 << 20;
  void* fresh = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(fresh, MAP_FAILED);
  EXPECT_EQ(ResidentPages(fresh, size), 0u) << "fresh memory is faulted in on first touch";
  munmap(fresh, size);

  setenv("MESHFED_HEAP_PREFAULT", "0", 1);
  EXPECT_FALSE(PrefaultHeapGrowth());
  unsetenv("MESHFED_HEAP_PREFAULT");
  if (!PrefaultHeapGrowth()) {
    GTEST_SKIP() << "no tcmalloc in this build (sanitizers), or the kernel lacks "
                    "MADV_POPULATE_WRITE";
  }
#ifdef MESHFED_WITH_TCMALLOC
  // What tcmalloc does when its page heap must grow: ask the system allocator (leaked here).
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t actual = 0;
  void* grown = MallocExtension::instance()->GetSystemAllocator()->Alloc(size, &actual, page);
  ASSERT_NE(grown, nullptr);
  ASSERT_GE(actual, size);
  if (!PrefaultHeapGrowth()) GTEST_SKIP() << "the kernel refused MADV_POPULATE_WRITE";
  EXPECT_EQ(ResidentPages(grown, actual), actual / page);
  // In whole 2 MiB blocks at 2 MiB boundaries, which the kernel can back with huge pages.
  constexpr size_t kHugePage = size_t{2} << 20;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(grown) % kHugePage, 0u);
  EXPECT_EQ(actual % kHugePage, 0u);
  // A piece tcmalloc asks for below 2 MiB comes back as a whole block too.
  void* small = MallocExtension::instance()->GetSystemAllocator()->Alloc(1 << 20, &actual, page);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % kHugePage, 0u);
  EXPECT_EQ(actual, kHugePage);
  EXPECT_EQ(ResidentPages(small, actual), actual / page);
#endif
}

// Memory the heap has made resident stays with the process: tcmalloc's scavenger returns none of
// it to the kernel as it is freed. Returning a piece of a 2 MiB page splits the page, and memory
// used again after that is mapped in 4 KiB pages (docs/performance-history.md, "Sixteenth
// session"). MESHFED_HEAP_PREFAULT=0 leaves tcmalloc's default.
TEST(HeapPrefault, FreedHeapMemoryStaysWithTheProcess) {
  if (!PrefaultHeapGrowth()) {
    GTEST_SKIP() << "no tcmalloc in this build (sanitizers), or the kernel lacks "
                    "MADV_POPULATE_WRITE";
  }
#ifdef MESHFED_WITH_TCMALLOC
  EXPECT_EQ(MallocExtension::instance()->GetMemoryReleaseRate(), 0.0);
#endif
}

}  // namespace
}  // namespace meshfed
