/*
 * Identity map above 4 GiB (see direct_map.h). Long-mode 4-level paging:
 * PML4 (bits 47:39) -> PDPT (38:30) -> PD (29:21), with the leaf in the
 * PDPT (1 GiB) or in the PD (2 MiB). One PDPT covers 512 GiB, one PD 1 GiB.
 */
#include <keel/direct_map.h>
#include <keel/string.h>
#include <x86/cpu.h>

#define ENTRIES 512
#define PD_SPAN GiB(1)
#define ADDR_MASK 0x000ffffffffff000ULL
#define VA_LIMIT (1ULL << 47) /* the lower half of a 48-bit address space */

#define TABLE_FLAGS (PTE_P | PTE_RW)
#define LEAF_FLAGS (PTE_P | PTE_RW | PTE_PS | PTE_NX)

static uint64_t *table_of(uint64_t entry) { return (uint64_t *)(uintptr_t)(entry & ADDR_MASK); }

/* The table an entry points to, made if the entry is empty; NULL if it is
 * a leaf already or memory ran out. */
static uint64_t *next_table(struct direct_map *dm, uint64_t *entry)
{
	if (*entry & PTE_P)
		return (*entry & PTE_PS) ? NULL : table_of(*entry);
	uint64_t *t = dm->alloc_table(dm->ctx);
	if (!t || ((uintptr_t)t & (PAGE_SIZE - 1)))
		return NULL;
	memset(t, 0, PAGE_SIZE);
	dm->nr_table_pages++;
	*entry = (uint64_t)(uintptr_t)t | TABLE_FLAGS;
	return t;
}

static int map_gib(struct direct_map *dm, uint64_t *pdpt, uint64_t pa)
{
	uint64_t *entry = &pdpt[(pa >> 30) % ENTRIES];
	if (*entry & PTE_P)
		return -1; /* already mapped */
	if (dm->gb_pages) {
		*entry = pa | LEAF_FLAGS;
		return 0;
	}
	uint64_t *pd = next_table(dm, entry);
	if (!pd)
		return -1;
	for (unsigned i = 0; i < ENTRIES; i++)
		pd[i] = (pa + i * LARGE_PAGE_SIZE) | LEAF_FLAGS;
	return 0;
}

/* Maps the 2 MiB pages of [pa, end) inside one GiB. */
static int map_part_of_gib(struct direct_map *dm, uint64_t *pdpt, uint64_t pa, uint64_t end)
{
	uint64_t *pd = next_table(dm, &pdpt[(pa >> 30) % ENTRIES]);
	if (!pd)
		return -1;
	for (; pa < end; pa += LARGE_PAGE_SIZE) {
		uint64_t *entry = &pd[(pa >> 21) % ENTRIES];
		if (*entry & PTE_P)
			return -1;
		*entry = pa | LEAF_FLAGS;
	}
	return 0;
}

int direct_map_extend(struct direct_map *dm, uint64_t start, uint64_t end)
{
	uint64_t unit = dm->gb_pages ? PD_SPAN : LARGE_PAGE_SIZE;
	if (!dm->pml4 || start > end || end > VA_LIMIT || start % unit || end % unit)
		return -1;
	for (uint64_t pa = start; pa < end;) {
		uint64_t *pdpt = next_table(dm, &dm->pml4[(pa >> 39) % ENTRIES]);
		if (!pdpt)
			return -1;
		uint64_t gib_end = ALIGN_DOWN(pa, PD_SPAN) + PD_SPAN;
		int r = (pa % PD_SPAN == 0 && end >= gib_end) ? map_gib(dm, pdpt, pa)
							     : map_part_of_gib(dm, pdpt, pa, MIN(end, gib_end));
		if (r < 0)
			return -1;
		pa = MIN(end, gib_end);
	}
	return 0;
}
