/* Bitmap allocator of 4 KiB physical pages below a limit (pure logic). */
#ifndef KEEL_PALLOC_H
#define KEEL_PALLOC_H

#include <keel/types.h>

struct palloc {
	uint8_t *bitmap; /* bit set = page in use (or not RAM) */
	uint64_t nr_pages;
	uint64_t free_pages;
	uint64_t hint; /* where the last search ended */
	uint64_t double_frees;
};

/* All pages start used; limit_bytes/4096 bits of bitmap are needed. */
void palloc_init(struct palloc *pa, uint8_t *bitmap, uint64_t limit_bytes);
void palloc_add_free(struct palloc *pa, uint64_t base, uint64_t len); /* rounds inward */
void palloc_reserve(struct palloc *pa, uint64_t base, uint64_t len);  /* rounds outward */
/* Physical address of npages contiguous pages aligned to align_bytes (a
 * power of two >= 4096), or 0. Page 0 is never handed out. */
uint64_t palloc_alloc(struct palloc *pa, uint64_t npages, uint64_t align_bytes);
void palloc_free(struct palloc *pa, uint64_t addr, uint64_t npages);
uint64_t palloc_free_bytes(const struct palloc *pa);
uint64_t palloc_largest_free_run(const struct palloc *pa, uint64_t align_bytes);

#endif
