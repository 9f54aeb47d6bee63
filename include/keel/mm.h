/* Keel's physical memory: the global page allocator (arch/x86/mm.c) over
 * the pure bitmap allocator (lib/palloc.c). Physical == virtual below 4 GiB. */
#ifndef KEEL_MM_H
#define KEEL_MM_H

#include <keel/types.h>

struct bootinfo;

/* Feeds the allocator from the memory map, reserving Keel's image, the boot
 * information, the modules and the first 1 MiB. Returns usable bytes. */
uint64_t mm_init(const struct bootinfo *bi);
/* Zeroed pages; NULL when memory is exhausted. */
void *page_alloc(uint64_t npages);
void *page_alloc_aligned(uint64_t npages, uint64_t align_bytes);
void page_free(void *p, uint64_t npages);
uint64_t mm_free_bytes(void);
uint64_t mm_largest_free_run(uint64_t align_bytes);
/* Read-only pointer to firmware data at any physical address (see mm.c);
 * NULL if it cannot be mapped. Valid until four more calls. */
const void *mm_map_firmware(uint64_t pa, uint64_t len);

static inline paddr_t virt_to_phys(const void *p) { return (paddr_t)(uintptr_t)p; }
static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)pa; }

#endif
