/* Keel's physical memory: the global page allocator (arch/x86/mm.c) over
 * the pure bitmap allocator (lib/palloc.c). Physical == virtual for all of
 * RAM: boot.S maps the first 4 GiB, mm_init the rest (lib/direct_map.c). */
#ifndef KEEL_MM_H
#define KEEL_MM_H

#include <keel/types.h>

struct bootinfo;

/* Feeds the allocator from the memory map (cleaned up by lib/physmem.c,
 * which names what it had to repair), reserving Keel's image, the boot
 * information, the modules and the first 1 MiB; maps and adds the RAM
 * above 4 GiB. Returns usable bytes. */
uint64_t mm_init(const struct bootinfo *bi);
/* The end of the highest usable RAM range (0 before mm_init). */
uint64_t mm_ram_top(void);
/* Usable RAM at or above 4 GiB, in bytes, as the allocator got it. */
uint64_t mm_ram_above_4g(void);
/* Zeroed pages; NULL when memory is exhausted. */
void *page_alloc(uint64_t npages);
void *page_alloc_aligned(uint64_t npages, uint64_t align_bytes);
/* Zeroed pages from the highest free run that fits (guest RAM: it keeps
 * low memory for Keel's own structures); NULL if none does. */
void *page_alloc_high(uint64_t npages, uint64_t align_bytes);
/* Zeroed pages that end at or below limit (for what a 32-bit field must
 * point to); NULL if there are none. */
void *page_alloc_below(uint64_t npages, uint64_t limit);
void page_free(void *p, uint64_t npages);
uint64_t mm_free_bytes(void);
uint64_t mm_largest_free_run(uint64_t align_bytes);
/* Read-only pointer to firmware data at any physical address (see mm.c);
 * NULL if it cannot be mapped. Valid until four more calls. */
const void *mm_map_firmware(uint64_t pa, uint64_t len);

static inline paddr_t virt_to_phys(const void *p) { return (paddr_t)(uintptr_t)p; }
static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)pa; }

#endif
