/* The host's memory map as Keel uses it (lib/physmem.c) and the identity
 * map above 4 GiB (lib/direct_map.c): RAM above 4 GiB, unsorted and
 * overlapping entries, partial pages, entries past the physical-address
 * width, and the page tables written for 1 GiB and 2 MiB pages. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/direct_map.h>
#include <keel/physmem.h>
#include <x86/cpu.h>

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

static struct physmem_plan plan;

static void check_range(unsigned i, uint64_t base, uint64_t end)
{
	assert_true(i < plan.nr_ram);
	assert_int_equal(plan.ram[i].base, base);
	assert_int_equal(plan.ram[i].end, end);
}

static bool warned(const char *part)
{
	for (unsigned i = 0; i < plan.nr_warnings; i++)
		if (strstr(plan.warnings[i], part))
			return true;
	return false;
}

/* What QEMU's SeaBIOS reports for -m 8G (q35): RAM to 2 GiB, the rest at
 * 4 GiB, reserved ranges in between. */
static void test_ram_above_4g(void **state)
{
	const struct mem_region map[] = {
		{ 0, 0x9fc00, MEM_RAM },
		{ 0x9fc00, 0x400, 2 },
		{ 0xf0000, 0x10000, 2 },
		{ 0x100000, 0x7fee0000, MEM_RAM },
		{ 0x7ffe0000, 0x20000, 2 },
		{ 0xb0000000, 0x10000000, 2 },
		{ 0xfffc0000, 0x40000, 2 },
		{ 4 * GIB, 6 * GIB, MEM_RAM },
	};
	assert_int_equal(physmem_plan(map, 8, 40, &plan), 3);
	check_range(0, 0x1000 * 0, 0x9f000);
	check_range(1, 0x100000, 0x7ffe0000);
	check_range(2, 4 * GIB, 10 * GIB);
	assert_int_equal(plan.ram_top, 10 * GIB);
	assert_int_equal(plan.map_top, 10 * GIB);
	assert_int_equal(plan.ram_bytes, 0x9f000 + (0x7ffe0000 - 0x100000) + 6 * GIB);
	assert_int_equal(plan.nr_warnings, 0);
}

/* Entries out of order, RAM overlapping reserved memory and other RAM,
 * partial pages at both ends. */
static void test_overlaps_and_order(void **state)
{
	const struct mem_region map[] = {
		{ 8 * GIB, 2 * GIB, MEM_RAM },
		{ 0x100000, 0x10000000, MEM_RAM },
		{ 0x8000800, 0x1000, 2 },               /* reserved inside RAM, not page-aligned */
		{ 4 * GIB + 0x123, 4 * GIB, MEM_RAM },   /* partial first page */
		{ 6 * GIB, 3 * GIB, MEM_RAM },           /* overlaps both neighbours: merged */
		{ 0xfee00000, 0x1000, 2 },
		{ 0x7000, 0x1000, MEM_ACPI_NVS },        /* not RAM, no overlap */
	};
	assert_int_equal(physmem_plan(map, 7, 46, &plan), 3);
	check_range(0, 0x100000, 0x8000000);
	check_range(1, 0x8002000, 0x10100000);
	check_range(2, 4 * GIB + 0x1000, 10 * GIB);
	assert_true(warned("entries 1 (RAM at 0x100000) and 2 (reserved at 0x8000800) overlap; the overlap is not used"));
	assert_true(warned("overlap; merged"));
}

/* RAM beyond the CPU's physical-address width is dropped or cut, and said. */
static void test_beyond_address_width(void **state)
{
	const struct mem_region map[] = {
		{ 0x100000, 0x1000000, MEM_RAM },
		{ 60 * GIB, 8 * GIB, MEM_RAM },  /* crosses 64 GiB (36 bits) */
		{ 1ULL << 40, GIB, MEM_RAM },     /* entirely beyond */
		{ 1ULL << 50, GIB, 2 },           /* reserved beyond: silent */
	};
	assert_int_equal(physmem_plan(map, 4, 36, &plan), 2);
	check_range(1, 60 * GIB, 64 * GIB);
	assert_int_equal(plan.nr_warnings, 2);
	assert_true(warned("entry 1 (RAM 0xf00000000-0x10ffffffff) reaches beyond the CPU's physical address width (64 GiB)"));
	assert_true(warned("entry 2 (RAM 0x10000000000-0x1003fffffff) lies beyond"));
	/* An absurd width is taken as the architectural minimum. */
	physmem_plan(map, 4, 99, &plan);
	assert_int_equal(plan.ram_top, 64 * GIB);
	/* Keel's own limit applies to wide CPUs. */
	const struct mem_region huge[] = { { 0x100000, UINT64_MAX - 0x100000, MEM_RAM } };
	physmem_plan(huge, 1, 52, &plan);
	assert_int_equal(plan.ram_top, PHYSMEM_LIMIT);
	assert_int_equal(plan.nr_warnings, 1);
	assert_true(warned("reaches beyond Keel's limit (65536 GiB)"));
}

static void test_no_ram_and_map_top(void **state)
{
	const struct mem_region none[] = { { 0, GIB, 2 }, { 0x100000, 0x1000, MEM_RAM } };
	/* The only RAM lies inside a reserved entry. */
	assert_int_equal(physmem_plan(none, 2, 39, &plan), 0);
	assert_int_equal(plan.ram_top, 0);
	assert_int_equal(physmem_plan(none, 0, 39, &plan), 0);
	/* ACPI tables above the last RAM extend the identity map, reserved
	 * ranges do not. */
	const struct mem_region acpi[] = {
		{ 0x100000, GIB, MEM_RAM },
		{ 5 * GIB, 0x10000, MEM_ACPI_RECLAIM },
		{ 7 * GIB, GIB, 2 },
	};
	physmem_plan(acpi, 3, 39, &plan);
	assert_int_equal(plan.ram_top, 0x100000 + GIB);
	assert_int_equal(plan.map_top, 5 * GIB + 0x10000);
}

/* Many small RAM entries separated by reserved pages: the range array
 * fills, the rest is named and left out, nothing overflows. */
static void test_many_ranges(void **state)
{
	static struct mem_region map[BOOTINFO_MAX_MMAP];
	for (unsigned i = 0; i < BOOTINFO_MAX_MMAP; i++)
		map[i] = (struct mem_region){ (uint64_t)i * 0x10000, 0x8000, MEM_RAM };
	assert_int_equal(physmem_plan(map, BOOTINFO_MAX_MMAP, 40, &plan), BOOTINFO_MAX_MMAP);
	assert_int_equal(plan.ram_bytes, BOOTINFO_MAX_MMAP * 0x8000ULL);
	assert_int_equal(plan.nr_warnings, 0);
}

/* --- the identity map ------------------------------------------------ */

static unsigned nr_tables;
static void *tables[64];

static void *alloc_table(void *ctx)
{
	if (ctx && nr_tables >= *(unsigned *)ctx)
		return NULL;
	void *p = aligned_alloc(4096, 4096);
	memset(p, 0xa5, 4096); /* the builder must clear it */
	tables[nr_tables++] = p;
	return p;
}

static void free_tables(void)
{
	for (unsigned i = 0; i < nr_tables; i++)
		free(tables[i]);
	nr_tables = 0;
}

static uint64_t *table_of(uint64_t e) { return (uint64_t *)(uintptr_t)(e & 0x000ffffffffff000ULL); }

/* Walks the 4-level tables: the physical address pa maps to, and the
 * leaf's size; 0 if unmapped. */
static uint64_t walk(uint64_t *pml4, uint64_t va, uint64_t *size)
{
	uint64_t e = pml4[(va >> 39) & 511];
	if (!(e & PTE_P))
		return 0;
	e = table_of(e)[(va >> 30) & 511];
	if (!(e & PTE_P))
		return 0;
	if (e & PTE_PS) {
		assert_true(e & PTE_NX);
		*size = GIB;
		return (e & ~(GIB - 1) & 0x000fffffffffffffULL) | (va & (GIB - 1));
	}
	e = table_of(e)[(va >> 21) & 511];
	if (!(e & PTE_P))
		return 0;
	assert_true((e & PTE_PS) && (e & PTE_NX) && (e & PTE_RW));
	*size = 2 * MIB;
	return (e & ~(2 * MIB - 1) & 0x000fffffffffffffULL) | (va & (2 * MIB - 1));
}

static void test_direct_map_1g_pages(void **state)
{
	uint64_t *pml4 = alloc_table(NULL);
	memset(pml4, 0, 4096);
	nr_tables = 0; /* the PML4 is not the builder's */
	struct direct_map dm = { .pml4 = pml4, .alloc_table = alloc_table, .gb_pages = true };
	assert_int_equal(direct_map_extend(&dm, 4 * GIB, 1024 * GIB), 0);
	assert_int_equal(dm.nr_table_pages, 2); /* a PDPT for each 512 GiB */
	uint64_t size;
	assert_int_equal(walk(pml4, 4 * GIB, &size), 4 * GIB);
	assert_int_equal(size, GIB);
	assert_int_equal(walk(pml4, 700 * GIB + 0x1234, &size), 700 * GIB + 0x1234);
	assert_int_equal(walk(pml4, 1024 * GIB - 1, &size), 1024 * GIB - 1);
	assert_int_equal(walk(pml4, 1024 * GIB, &size), 0);
	/* Mapping it again is refused; misaligned ends too. */
	assert_int_equal(direct_map_extend(&dm, 4 * GIB, 5 * GIB), -1);
	assert_int_equal(direct_map_extend(&dm, 2000 * GIB, 2000 * GIB + 2 * MIB), -1);
	assert_int_equal(direct_map_extend(&dm, 1ULL << 47, (1ULL << 47) + GIB), -1);
	free_tables();
	free(pml4);
}

static void test_direct_map_2m_pages(void **state)
{
	uint64_t *pml4 = aligned_alloc(4096, 4096);
	memset(pml4, 0, 4096);
	struct direct_map dm = { .pml4 = pml4, .alloc_table = alloc_table };
	/* 4 GiB to 6.5 GiB: a PDPT, three PDs (the last one half full). */
	assert_int_equal(direct_map_extend(&dm, 4 * GIB, 6 * GIB + 512 * MIB), 0);
	assert_int_equal(dm.nr_table_pages, 4);
	uint64_t size;
	for (uint64_t a = 4 * GIB; a < 6 * GIB + 512 * MIB; a += 2 * MIB) {
		assert_int_equal(walk(pml4, a + 0x1000, &size), a + 0x1000);
		assert_int_equal(size, 2 * MIB);
	}
	assert_int_equal(walk(pml4, 6 * GIB + 512 * MIB, &size), 0);
	/* The rest of that GiB can be added later; its start cannot be redone. */
	assert_int_equal(direct_map_extend(&dm, 6 * GIB + 512 * MIB, 7 * GIB), 0);
	assert_int_equal(walk(pml4, 7 * GIB - 1, &size), 7 * GIB - 1);
	assert_int_equal(direct_map_extend(&dm, 6 * GIB, 6 * GIB + 2 * MIB), -1);
	free_tables();
	free(pml4);
}

static void test_direct_map_out_of_memory(void **state)
{
	uint64_t *pml4 = aligned_alloc(4096, 4096);
	memset(pml4, 0, 4096);
	unsigned budget = 2;
	struct direct_map dm = { .pml4 = pml4, .alloc_table = alloc_table, .ctx = &budget };
	assert_int_equal(direct_map_extend(&dm, 4 * GIB, 8 * GIB), -1);
	/* What was mapped before memory ran out is consistent. */
	uint64_t size;
	assert_int_equal(walk(pml4, 4 * GIB + 3, &size), 4 * GIB + 3);
	assert_int_equal(walk(pml4, 5 * GIB, &size), 0);
	free_tables();
	free(pml4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_above_4g),
		cmocka_unit_test(test_overlaps_and_order),
		cmocka_unit_test(test_beyond_address_width),
		cmocka_unit_test(test_no_ram_and_map_top),
		cmocka_unit_test(test_many_ranges),
		cmocka_unit_test(test_direct_map_1g_pages),
		cmocka_unit_test(test_direct_map_2m_pages),
		cmocka_unit_test(test_direct_map_out_of_memory),
	};
	return cmocka_run_group_tests_name("physmem", tests, NULL, NULL);
}
