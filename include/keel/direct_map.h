/*
 * Keel's identity map of physical memory above what boot.S maps (pure
 * logic: it writes page-table entries into tables it is given, so the unit
 * tests run it on heap pages).
 *
 * boot.S maps the first 4 GiB with 2 MiB pages before it can read the
 * memory map. Once the map is parsed, direct_map_extend() maps the rest of
 * the RAM (physmem.h: up to map_top), virtual == physical, with the
 * largest pages the CPU offers: 1 GiB pages where CPUID 0x80000001
 * EDX.Page1GB says so (a PDPT entry with PS set, SDM Vol. 3A 4.5.4), else
 * 2 MiB pages (a PD per GiB). The entries are writable and not executable:
 * Keel runs no code from there.
 */
#ifndef KEEL_DIRECT_MAP_H
#define KEEL_DIRECT_MAP_H

#include <keel/types.h>

struct direct_map {
	uint64_t *pml4;                  /* the live PML4 (its address is its physical address) */
	void *(*alloc_table)(void *ctx); /* a 4 KiB-aligned page, NULL when out of memory */
	void *ctx;
	bool gb_pages;                   /* the CPU has 1 GiB pages */
	uint64_t nr_table_pages;         /* tables allocated so far */
};

/* Maps [start, end) (both multiples of 2 MiB, and of 1 GiB with gb_pages)
 * to the same physical addresses. Entries already present in that range
 * are an error (nothing is remapped). Returns 0, or -1: bad arguments, a
 * range that is already mapped, or out of memory (what was mapped stays). */
int direct_map_extend(struct direct_map *dm, uint64_t start, uint64_t end);

#endif
