#include "adapters/heap_prefault.h"

#include <cstdlib>
#include <cstring>

#ifdef MESHFED_WITH_TCMALLOC
#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#endif

namespace meshfed {

#ifdef MESHFED_WITH_TCMALLOC
namespace {

// tcmalloc calls Alloc with its page heap locked, whenever it needs more memory: 1 MiB at a time
// for small objects, the rounded size for a large one. It must not allocate.
class PopulatingAllocator : public SysAllocator {
 public:
  explicit PopulatingAllocator(SysAllocator* next) : next_(next) {}

  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    void* p = next_->Alloc(size, actual_size, alignment);
    if (p != nullptr && enabled_.load(std::memory_order_relaxed)) {
      size_t got = actual_size != nullptr ? *actual_size : size;
      // Kernels before 5.14 answer EINVAL: stop asking. ENOMEM and the like leave the memory to
      // be faulted in on first touch, as it would have been.
      if (madvise(p, got, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
        enabled_.store(false, std::memory_order_relaxed);
      }
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
    return populating;
  }();
  return installed != nullptr && installed->enabled();
}

#else

bool PrefaultHeapGrowth() { return false; }

#endif

}  // namespace meshfed
