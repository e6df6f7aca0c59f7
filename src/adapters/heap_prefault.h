// Heap memory made resident in bulk, in huge pages where the kernel allows, as the allocator
// obtains it from the kernel.
//
// A render of the large fleet builds about 600 MiB of trees, and on a VM the first touch of each
// 4 KiB page is costly: a page fault, and the hypervisor mapping the page. Asking the kernel to
// populate the allocator's new memory in one call per piece (madvise MADV_POPULATE_WRITE, Linux
// 5.14) does the kernel's part without a fault per page (docs/performance-history.md, "Eighth
// session"); the JVM's -XX:+AlwaysPreTouch does this for its heap. Marking each piece MADV_HUGEPAGE
// first lets the kernel map it in 2 MiB pages, which leaves the hypervisor one entry per 2 MiB to
// map instead of 512 (and fewer TLB misses everywhere): on this project's VM it halved the user
// time of `meshfed render` (docs/performance-history.md, "Eleventh session").
#pragma once

#include <cstddef>

namespace meshfed {

// Installs the populating system allocator under tcmalloc (gperftools' SysAllocator interface)
// and keeps what the heap obtains (tcmalloc's release rate 0: freed memory is not returned to the
// kernel, which would split its huge pages), unless the environment sets MESHFED_HEAP_PREFAULT=0.
// Returns whether it is on: false without tcmalloc (sanitizer and fuzzing builds,
// MESHFED_TCMALLOC=OFF), when switched off, and once the kernel has refused MADV_POPULATE_WRITE.
// Call it once, first thing in main.
bool PrefaultHeapGrowth();

// The heap's bytes in use by the program and obtained from the kernel (tcmalloc's
// generic.current_allocated_bytes and generic.heap_size); zeros without tcmalloc. For benchmarks.
struct HeapUse {
  size_t allocated = 0;
  size_t obtained = 0;
};
HeapUse CurrentHeapUse();

}  // namespace meshfed
