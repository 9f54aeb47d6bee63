/*
 * Allocator of 4 KiB physical pages below a limit (pure logic): one bit per
 * page, set = in use or not RAM. Allocation is first fit (lowest address)
 * with alignment, so single pages fill the gaps that aligned blocks leave
 * and high memory stays contiguous for large guests.
 *
 * Set-up order: palloc_init, palloc_add_free for every RAM region, then
 * palloc_reserve for whatever must not be handed out. The bitmap cannot
 * tell "allocated" from "not RAM", so add_free after allocation has begun
 * would free live pages, and free of a page that was never RAM would make
 * it allocatable: neither is detected.
 */
#ifndef KEEL_PALLOC_H
#define KEEL_PALLOC_H

#include <keel/types.h>

struct palloc {
	uint8_t *bitmap;       /* bit set = page in use (or not RAM) */
	uint64_t nr_pages;     /* pages below the limit (bits in the bitmap) */
	uint64_t free_pages;   /* pages free now */
	uint64_t total_pages;  /* pages given to the allocator: added RAM minus reserved */
	uint64_t hint;         /* no page below this one is free */
	uint64_t double_frees; /* palloc_free calls refused (already free, or not a valid range) */
};

/* Bytes of bitmap needed for a limit. */
#define PALLOC_BITMAP_BYTES(limit_bytes) (((limit_bytes) / PAGE_SIZE + 7) / 8)

/* All pages start used; PALLOC_BITMAP_BYTES(limit_bytes) bytes of bitmap. */
void palloc_init(struct palloc *pa, uint8_t *bitmap, uint64_t limit_bytes);
/* Moves the allocator to a larger bitmap of PALLOC_BITMAP_BYTES(limit_bytes)
 * bytes (not overlapping the old one): pages below the old limit keep their
 * state, pages between the limits start used; add_free them next. The old
 * bitmap is no longer used. A smaller or equal limit changes nothing. Keel
 * starts with a bitmap for memory below 4 GiB and grows it once it has
 * mapped the RAM above (arch/x86/mm.c). */
void palloc_grow(struct palloc *pa, uint8_t *bitmap, uint64_t limit_bytes);
/* Makes the whole pages inside [base, base+len) free, clipped at the limit.
 * Page 0 is never made free (address 0 means "no memory"). */
void palloc_add_free(struct palloc *pa, uint64_t base, uint64_t len);
/* Marks every page touching [base, base+len) used. */
void palloc_reserve(struct palloc *pa, uint64_t base, uint64_t len);
/* Physical address of npages contiguous free pages starting on a multiple
 * of align_bytes (a power of two; 0 or anything below 4096 means 4096), now
 * marked used; 0 when no such run exists or align_bytes is not a power of
 * two. Page 0 is never handed out. */
uint64_t palloc_alloc(struct palloc *pa, uint64_t npages, uint64_t align_bytes);
/* palloc_alloc, but the highest such run instead of the lowest: guest RAM
 * comes from the top, so memory below 4 GiB stays for what needs it. */
uint64_t palloc_alloc_top(struct palloc *pa, uint64_t npages, uint64_t align_bytes);
/* palloc_alloc, but only a run that ends at or below limit_bytes (for
 * structures a 32-bit field must point to); 0 if there is none. */
uint64_t palloc_alloc_below(struct palloc *pa, uint64_t npages, uint64_t align_bytes, uint64_t limit_bytes);
/* Frees npages pages at addr (npages 0: nothing to do, returns 0). Returns
 * -1 and changes nothing if addr is not page-aligned, the range starts at
 * page 0 or passes the limit, or any page in it is already free (a double
 * free). */
int palloc_try_free(struct palloc *pa, uint64_t addr, uint64_t npages);
/* palloc_try_free, counting refused calls in pa->double_frees. */
void palloc_free(struct palloc *pa, uint64_t addr, uint64_t npages);
bool palloc_page_is_free(const struct palloc *pa, uint64_t addr);
uint64_t palloc_free_bytes(const struct palloc *pa);
/* The largest allocation with this alignment that would succeed now, in
 * bytes (for "not enough memory" messages). */
uint64_t palloc_largest_free_run(const struct palloc *pa, uint64_t align_bytes);

#endif
