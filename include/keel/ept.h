/*
 * EPT builder (pure logic). 4-level tables per SDM Vol. 3C 29.3. Table
 * pages come from a callback; their pointer value is their physical address
 * (Keel identity-maps its memory; host tests use aligned heap pages).
 */
#ifndef KEEL_EPT_H
#define KEEL_EPT_H

#include <keel/types.h>

struct ept {
	uint64_t *pml4;
	uint64_t nr_table_pages;
	void *(*alloc_table)(void *ctx); /* zeroed, 4 KiB aligned; NULL when out of memory */
	void (*free_table)(void *ctx, void *page);
	void *ctx;
	bool allow_2m, allow_1g;
};

int ept_init(struct ept *e);
/* Maps [gpa, gpa+size) to [hpa, hpa+size), write-back, with perms
 * (EPT_READ|EPT_WRITE|EPT_EXEC). Uses the largest leaves that fit. All
 * arguments 4 KiB-aligned and below 2^48. Returns 0, or -1 (bad arguments,
 * out of memory: what was mapped before the failure stays mapped). */
int ept_map_range(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms);
int ept_unmap_range(struct ept *e, uint64_t gpa, uint64_t size);
/* level: 1 = 4 KiB leaf, 2 = 2 MiB, 3 = 1 GiB. */
bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms, int *level);
uint64_t ept_pointer(const struct ept *e);
void ept_destroy(struct ept *e);

#endif
