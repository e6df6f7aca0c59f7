#include "adapters/heap_prefault.h"

#include <cstdlib>
#include <cstring>

#ifdef MESHFED_WITH_TCMALLOC
#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#endif

namespace meshfed {

#ifdef MESHFED_WITH_TCMALLOC
namespace {

// tcmalloc calls Alloc with its page heap locked, whenever it needs more memory: 1 MiB at a time
// for small objects, the rounded size for a large one. It must not allocate.
//
// Each piece is asked for in whole, aligned 2 MiB blocks (tcmalloc takes the size it is given
// back in `actual_size`: gperftools' PageHeap::GrowHeap) and marked MADV_HUGEPAGE before it is
// populated, so that where transparent huge pages are on for `madvise` or `always`, the kernel
// backs it with 2 MiB pages: one page-table entry per 2 MiB instead of 512. A virtual machine
// pays for every entry it maps (`meshfed_bench memory 630 [populate|huge]`, docs/performance.md).
// Where huge pages are off or refused, the advice is a no-op and the pages are 4 KiB.
class PopulatingAllocator : public SysAllocator {
 public:
  explicit PopulatingAllocator(SysAllocator* next) : next_(next) {}

  static constexpr size_t kHugePage = size_t{2} << 20;

  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    if (!enabled_.load(std::memory_order_relaxed))
      return next_->Alloc(size, actual_size, alignment);
    void* p = nullptr;
    if (actual_size != nullptr && size <= SIZE_MAX - kHugePage) {
      p = next_->Alloc((size + kHugePage - 1) & ~(kHugePage - 1), actual_size,
                       std::max(alignment, kHugePage));
    }
    if (p == nullptr) p = next_->Alloc(size, actual_size, alignment);
    if (p == nullptr) return nullptr;
    size_t got = actual_size != nullptr ? *actual_size : size;
    madvise(p, got, MADV_HUGEPAGE);  // EINVAL without THP in the kernel: 4 KiB pages, as before
    // Kernels before 5.14 answer EINVAL: stop asking. ENOMEM and the like leave the memory to
    // be faulted in on first touch, as it would have been.
    if (madvise(p, got, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
      enabled_.store(false, std::memory_order_relaxed);
    }
    return p;
  }

  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

 private:
  SysAllocator* next_;
  std::atomic<bool> enabled_{true};
};

}  // namespace

bool PrefaultHeapGrowth() {
  const char* setting = std::getenv("MESHFED_HEAP_PREFAULT");
  if (setting != nullptr && std::strcmp(setting, "0") == 0) return false;
  static PopulatingAllocator* const installed = [] {
    MallocExtension* extension = MallocExtension::instance();
    SysAllocator* next = extension->GetSystemAllocator();
    if (next == nullptr) return static_cast<PopulatingAllocator*>(nullptr);
    auto* populating = new PopulatingAllocator(next);  // lives as long as the heap
    extension->SetSystemAllocator(populating);
    // What the heap has obtained stays with the process. tcmalloc's scavenger returns free pages
    // to the kernel a few at a time (madvise MADV_DONTNEED) as spans are freed; each piece
    // returned from a 2 MiB page splits it, and memory used again after that is mapped in
    // 4 KiB pages. In the controller bench, whose controller frees gigabytes between two full
    // reconciles, the heap's huge pages fell from 2.6 to 0.9 GiB within six seconds and the
    // second full reconcile, which is bound by memory latency, took 25 s instead of 3 s
    // (docs/performance-history.md, "Sixteenth session").
    extension->SetMemoryReleaseRate(0);
    return populating;
  }();
  return installed != nullptr && installed->enabled();
}

HeapUse CurrentHeapUse() {
  HeapUse use;
  MallocExtension* extension = MallocExtension::instance();
  extension->GetNumericProperty("generic.current_allocated_bytes", &use.allocated);
  extension->GetNumericProperty("generic.heap_size", &use.obtained);
  return use;
}

#else

bool PrefaultHeapGrowth() { return false; }

HeapUse CurrentHeapUse() { return {}; }

#endif

}  // namespace meshfed
