// Heap memory made resident in bulk as the allocator obtains it from the kernel.
//
// A render of the large fleet builds about 800 MiB of trees, and on this project's VM the first
// touch of each 4 KiB page costs a page fault: 0.39-0.41 s per GiB. Asking the kernel to populate
// the allocator's new memory in one call per piece (madvise MADV_POPULATE_WRITE, Linux 5.14) does
// the same work without a fault per page: 800 MiB in 0.20-0.22 s instead of 0.31-0.34 s
// (docs/performance.md, "Eighth session"). The JVM's -XX:+AlwaysPreTouch does this for its heap.
#pragma once

namespace meshfed {

// Installs the populating system allocator under tcmalloc (gperftools' SysAllocator interface),
// unless the environment sets MESHFED_HEAP_PREFAULT=0. Returns whether it is on: false without
// tcmalloc (sanitizer and fuzzing builds, MESHFED_TCMALLOC=OFF), when switched off, and once the
// kernel has refused MADV_POPULATE_WRITE. Call it once, first thing in main.
bool PrefaultHeapGrowth();

}  // namespace meshfed
