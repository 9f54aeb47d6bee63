/* The EPT builder: leaf sizes, holes, splitting, out-of-memory, and a walk
 * of every 4 KiB page against a reference model. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/ept.h>
#include <x86/vmx.h>

static long allocs, frees, budget;

static void *alloc_table(void *ctx)
{
	if (budget == 0)
		return NULL;
	if (budget > 0)
		budget--;
	void *p = aligned_alloc(4096, 4096);
	memset(p, 0, 4096);
	allocs++;
	return p;
}

static void free_table(void *ctx, void *p)
{
	frees++;
	free(p);
}

static void new_ept(struct ept *e, bool m2, bool g1)
{
	memset(e, 0, sizeof(*e));
	e->alloc_table = alloc_table;
	e->free_table = free_table;
	e->allow_2m = m2;
	e->allow_1g = g1;
	allocs = frees = 0;
	budget = -1;
	assert_int_equal(ept_init(e), 0);
}

static void check(struct ept *e, uint64_t gpa, uint64_t hpa, int level)
{
	uint64_t h, perms;
	int l;
	assert_true(ept_translate(e, gpa, &h, &perms, &l));
	assert_int_equal(h, hpa);
	assert_int_equal(perms, EPT_RWX);
	if (level)
		assert_int_equal(l, level);
}

static void test_guest_ram_uses_2m_leaves(void **state)
{
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_map_range(&e, 0, 0x40000000, 32 << 20, EPT_RWX), 0);
	/* PML4 + PDPT + one PD: 16 x 2 MiB leaves, no page tables. */
	assert_int_equal(e.nr_table_pages, 3);
	check(&e, 0, 0x40000000, 2);
	check(&e, 0x1234567, 0x41234567, 2);
	uint64_t h, p;
	int l;
	assert_false(ept_translate(&e, 32 << 20, &h, &p, &l)); /* just past RAM */
	assert_false(ept_translate(&e, 0xfee00000, &h, &p, &l));
	assert_false(ept_translate(&e, 1ULL << 46, &h, &p, &l));
	/* The EPTP: WB (6), walk length 4 (3 << 3), PML4 address. */
	assert_int_equal(ept_pointer(&e) & 0xfff, 6 | (3 << 3));
	ept_destroy(&e);
	assert_int_equal(allocs, frees);
}

static void test_unaligned_edges_and_holes(void **state)
{
	struct ept e;
	new_ept(&e, true, false);
	/* 4 KiB leaves at the unaligned head and tail, 2 MiB in the middle. */
	assert_int_equal(ept_map_range(&e, 0x1ff000, 0x5ff000, 0x402000, EPT_RWX), 0);
	check(&e, 0x1ff000, 0x5ff000, 1);
	check(&e, 0x200000, 0x600000, 2);
	check(&e, 0x600000, 0xa00000, 1);
	uint64_t h, p;
	int l;
	assert_false(ept_translate(&e, 0x1fe000, &h, &p, &l));
	assert_false(ept_translate(&e, 0x601000, &h, &p, &l));
	/* HPA not 2 MiB-aligned: only 4 KiB leaves are possible. */
	assert_int_equal(ept_map_range(&e, 0x10000000, 0x1000, 2 << 20, EPT_RWX), 0);
	check(&e, 0x10000000, 0x1000, 1);
	/* Bad arguments. */
	assert_int_equal(ept_map_range(&e, 0x123, 0, 4096, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 1ULL << 48, 0, 4096, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, 0), -1);
	ept_destroy(&e);
	assert_int_equal(allocs, frees);
}

static void test_split_large_leaf(void **state)
{
	struct ept e;
	new_ept(&e, true, true);
	assert_int_equal(ept_map_range(&e, 0, 0x80000000, 1ULL << 30, EPT_RWX), 0);
	check(&e, 0x3fffffff, 0xbfffffff, 3); /* one 1 GiB leaf */
	/* Punch a 4 KiB hole: 1G -> 2M table -> 4K table; the rest keeps its
	 * translation. */
	assert_int_equal(ept_unmap_range(&e, 0x345000, 4096), 0);
	uint64_t h, p;
	int l;
	assert_false(ept_translate(&e, 0x345000, &h, &p, &l));
	check(&e, 0x344000, 0x80344000, 1);
	check(&e, 0x346fff, 0x80346fff, 1);
	check(&e, 0x400000, 0x80400000, 2);
	check(&e, 0x3ff00000, 0xbff00000, 2);
	/* Remap the page elsewhere. */
	assert_int_equal(ept_map_range(&e, 0x345000, 0x7000, 4096, EPT_READ | EPT_WRITE | EPT_EXEC), 0);
	check(&e, 0x345000, 0x7000, 1);
	ept_destroy(&e);
	assert_int_equal(allocs, frees);
}

static void test_out_of_memory(void **state)
{
	struct ept e;
	new_ept(&e, false, false);
	budget = 2; /* PDPT and PD, but no page table */
	assert_int_equal(ept_map_range(&e, 0, 0x100000, 8 << 20, EPT_RWX), -1);
	uint64_t h, p;
	int l;
	assert_false(ept_translate(&e, 0, &h, &p, &l));
	budget = -1;
	ept_destroy(&e);
	assert_int_equal(allocs, frees);
}

static void test_walk_every_page(void **state)
{
	struct ept e;
	new_ept(&e, true, false);
	/* Three ranges, gaps between them, mixed alignment. */
	struct {
		uint64_t gpa, hpa, size;
	} r[] = { { 0, 0x10000000, 0xa0000 }, { 0x100000, 0x10100000, 0x1f00000 }, { 0x3000000, 0x20001000, 0x801000 } };
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(ept_map_range(&e, r[i].gpa, r[i].hpa, r[i].size, EPT_RWX), 0);
	for (uint64_t gpa = 0; gpa < 0x4000000; gpa += 4096) {
		uint64_t want = 0;
		bool mapped = false;
		for (unsigned i = 0; i < 3; i++)
			if (gpa >= r[i].gpa && gpa < r[i].gpa + r[i].size) {
				want = r[i].hpa + (gpa - r[i].gpa);
				mapped = true;
			}
		uint64_t h, p;
		int l;
		assert_int_equal(ept_translate(&e, gpa, &h, &p, &l), mapped);
		if (mapped)
			assert_int_equal(h, want);
	}
	ept_destroy(&e);
	assert_int_equal(allocs, frees);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_ram_uses_2m_leaves),
		cmocka_unit_test(test_unaligned_edges_and_holes),
		cmocka_unit_test(test_split_large_leaf),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_walk_every_page),
	};
	return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
