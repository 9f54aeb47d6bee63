/*
 * EPT builder (pure logic): 4-level extended page tables, SDM Vol. 3C 29.3.
 * Table pages come from a callback; their pointer value is their physical
 * address (Keel identity-maps its memory; host tests use aligned heap
 * pages).
 *
 * Leaves are write-back with "ignore PAT" clear: the guest's PAT still
 * picks UC or WC for a page it wants uncached, as on bare metal where the
 * MTRRs call RAM write-back (with EPT on, the EPT memory type takes the
 * MTRRs' place; SDM 29.3.7.2).
 *
 * Callers invalidate: after an unmap or a change of an existing mapping on
 * a live EPT, INVEPT before the guest runs again.
 */
#ifndef KEEL_EPT_H
#define KEEL_EPT_H

#include <keel/types.h>

struct ept {
	uint64_t *pml4;
	uint64_t nr_table_pages;         /* table pages held now, the PML4 included */
	void *(*alloc_table)(void *ctx); /* zeroed, 4 KiB aligned; NULL when out of memory */
	void (*free_table)(void *ctx, void *page);
	void *ctx;
	bool allow_2m, allow_1g; /* IA32_VMX_EPT_VPID_CAP bits 16 and 17 */
	bool allow_exec_only;    /* IA32_VMX_EPT_VPID_CAP bit 0: execute-only leaves */
};

/* Allocates the PML4 (the other fields are set by the caller first). 0, or
 * -1 when out of memory. */
int ept_init(struct ept *e);
/* Maps [gpa, gpa+size) to [hpa, hpa+size), write-back, with perms (a
 * non-empty combination of EPT_READ, EPT_WRITE, EPT_EXEC; write needs read,
 * execute alone needs allow_exec_only). Whatever was mapped there before is
 * replaced. Uses 1 GiB / 2 MiB leaves where allowed and where gpa, hpa and
 * the remaining size line up; a large leaf that the range covers only in
 * part is split first, so the rest of it keeps its translation. gpa, hpa
 * and size must be 4 KiB multiples, gpa+size <= 2^48, hpa+size <= 2^52.
 * Returns 0, or -1: bad arguments (nothing changed), or out of memory (the
 * tables stay consistent: a prefix of the range is mapped, every other
 * translation is as before, and no empty table is left behind). */
int ept_map_range(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms);
/* Removes every translation in [gpa, gpa+size), splitting large leaves that
 * straddle its edges and freeing tables left empty. Same alignment rules.
 * Returns 0, or -1 (bad arguments, or out of memory while splitting). */
int ept_unmap_range(struct ept *e, uint64_t gpa, uint64_t size);
/* Translates gpa. true if mapped, with the host address, the leaf's
 * permissions (EPT_READ|EPT_WRITE|EPT_EXEC bits) and its level (1 = 4 KiB
 * leaf, 2 = 2 MiB, 3 = 1 GiB). Any output pointer may be NULL. */
bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms, int *level);
/* The EPTP for VMCS_EPT_POINTER: PML4 address, memory type WB, page-walk
 * length 4, accessed/dirty flags off. */
uint64_t ept_pointer(const struct ept *e);
/* Frees every table page, the PML4 included. */
void ept_destroy(struct ept *e);

#endif
