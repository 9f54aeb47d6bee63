/*
 * The host's RAM as Keel will use it (pure logic): from the boot loader's
 * memory map to the ranges the page allocator may hand out and how far
 * the identity map must reach.
 *
 * Firmware memory maps are not always tidy: entries may come in any order,
 * overlap each other, or reach past what the CPU can address. The rules:
 *  - only type-1 (RAM) entries give usable memory, whole 4 KiB pages of
 *    them (a partial page at either end is left out);
 *  - where RAM overlaps an entry of any other type, the other type wins:
 *    using memory the firmware also called reserved could corrupt it, while
 *    leaving RAM unused only costs that RAM;
 *  - RAM entries that overlap each other are merged;
 *  - anything at or above the CPU's physical-address width (CPUID
 *    0x80000008 EAX[7:0]) or above PHYSMEM_LIMIT is dropped.
 * Each such repair is reported in warnings[], naming the entries.
 */
#ifndef KEEL_PHYSMEM_H
#define KEEL_PHYSMEM_H

#include <keel/bootinfo.h>
#include <keel/types.h>

/* Keel manages RAM below 64 TiB: 46 address bits, the widest physical
 * address of the Intel server CPUs Keel targets. The allocator's bitmap
 * costs 32 KiB per GiB up to the top of RAM. */
#define PHYSMEM_LIMIT (1ULL << 46)
#define PHYSMEM_MAX_RANGES (2 * BOOTINFO_MAX_MMAP)
#define PHYSMEM_MAX_WARNINGS 8

struct physmem_range {
	uint64_t base, end; /* page-aligned, end exclusive */
};

struct physmem_plan {
	struct physmem_range ram[PHYSMEM_MAX_RANGES]; /* sorted, disjoint, not adjacent */
	unsigned nr_ram;
	uint64_t ram_bytes; /* sum of the ranges */
	uint64_t ram_top;   /* end of the highest RAM range (0: none) */
	/* End of the highest RAM, ACPI reclaimable or ACPI NVS entry kept:
	 * what the identity map must cover so that Keel can read its RAM and
	 * the firmware's tables through plain pointers. */
	uint64_t map_top;
	unsigned nr_warnings;
	char warnings[PHYSMEM_MAX_WARNINGS][112];
	unsigned warnings_dropped;
};

/* Builds the plan from n memory-map entries for a CPU with maxphyaddr
 * address bits (36 to 52; anything else is taken as 36, the architectural
 * minimum). Returns the number of RAM ranges (0: the map has no usable RAM). */
unsigned physmem_plan(const struct mem_region *map, unsigned n, unsigned maxphyaddr, struct physmem_plan *plan);

#endif
