/* The EPT builder: leaf sizes and table counts, holes, splitting, 1 GiB
 * leaves, permissions, out-of-memory at every possible point, and random
 * map/unmap sequences walked page by page against a reference model with
 * the table invariants checked after each step. */
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

static void done(struct ept *e)
{
	ept_destroy(e);
	assert_null(e->pml4);
	assert_int_equal(e->nr_table_pages, 0);
	assert_int_equal(allocs, frees);
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

static bool mapped(struct ept *e, uint64_t gpa) { return ept_translate(e, gpa, NULL, NULL, NULL); }

/* Walks the tables: every entry well formed (SDM 29.3.2: non-leaf entries
 * RWX with bits 7:3 clear; leaves WB, IPAT clear, bit 7 only at the PD and
 * PDPT levels, address aligned to the leaf size), no empty table below the
 * PML4, and the tables counted match nr_table_pages. Returns the leaves
 * per level in leaves[1..3]. */
static uint64_t walk(const uint64_t *t, int level, uint64_t leaves[4])
{
	uint64_t tables = 1, nonzero = 0;
	for (int i = 0; i < 512; i++) {
		uint64_t entry = t[i];
		if (!entry)
			continue;
		nonzero++;
		assert_true(entry & EPT_RWX);
		bool leaf = level == 1 || (level < 4 && (entry & EPT_LARGE));
		if (!leaf) {
			assert_int_equal(entry & ~EPT_ADDR_MASK, EPT_RWX);
			tables += walk((const uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK), level - 1, leaves);
			continue;
		}
		assert_false((entry & EPT_WRITE) && !(entry & EPT_READ));
		assert_int_equal(entry & (7 << 3), EPT_MEMTYPE_WB);
		assert_int_equal(entry & EPT_IGNORE_PAT, 0);
		assert_int_equal(!!(entry & EPT_LARGE), level > 1);
		uint64_t size = 1ULL << (12 + 9 * (level - 1));
		assert_int_equal(entry & EPT_ADDR_MASK & (size - 1), 0);
		assert_int_equal(entry & ~EPT_ADDR_MASK & ~(uint64_t)0xff, 0);
		leaves[level]++;
	}
	if (level < 4)
		assert_true(nonzero > 0); /* empty tables are freed */
	return tables;
}

static void check_tables(struct ept *e, uint64_t leaves[4])
{
	memset(leaves, 0, 4 * sizeof(leaves[0]));
	assert_int_equal(walk(e->pml4, 4, leaves), e->nr_table_pages);
	assert_int_equal(allocs - frees, e->nr_table_pages);
}

static void test_guest_ram_uses_2m_leaves(void **state)
{
	struct ept e;
	uint64_t leaves[4];
	new_ept(&e, true, false);
	assert_int_equal(e.nr_table_pages, 1);
	assert_int_equal(ept_map_range(&e, 0, 0x40000000, 32 << 20, EPT_RWX), 0);
	/* PML4 + PDPT + one PD: 16 x 2 MiB leaves, no page tables. */
	assert_int_equal(e.nr_table_pages, 3);
	check_tables(&e, leaves);
	assert_int_equal(leaves[2], 16);
	assert_int_equal(leaves[1], 0);
	check(&e, 0, 0x40000000, 2);
	check(&e, 0x1234567, 0x41234567, 2);
	check(&e, (32 << 20) - 1, 0x40000000 + (32 << 20) - 1, 2);
	assert_false(mapped(&e, 32 << 20)); /* just past RAM */
	assert_false(mapped(&e, 0xfee00000));
	assert_false(mapped(&e, 1ULL << 46));
	assert_false(mapped(&e, 1ULL << 48));
	assert_false(mapped(&e, UINT64_MAX));
	/* The EPTP: WB (6), walk length 4 (3 << 3), A/D off, PML4 address. */
	assert_int_equal(ept_pointer(&e) & 0xfff, 6 | (3 << 3));
	assert_int_equal(ept_pointer(&e) & ~0xfffULL, (uint64_t)(uintptr_t)e.pml4);
	done(&e);

	/* Without 2 MiB support: 16 page tables. */
	new_ept(&e, false, false);
	assert_int_equal(ept_map_range(&e, 0, 0x40000000, 32 << 20, EPT_RWX), 0);
	assert_int_equal(e.nr_table_pages, 3 + 16);
	check_tables(&e, leaves);
	assert_int_equal(leaves[1], 8192);
	check(&e, 0x1234567, 0x41234567, 1);
	done(&e);
}

static void test_unaligned_edges_and_holes(void **state)
{
	struct ept e;
	uint64_t leaves[4];
	new_ept(&e, true, false);
	/* 4 KiB leaves at the unaligned head and tail, 2 MiB in the middle. */
	assert_int_equal(ept_map_range(&e, 0x1ff000, 0x5ff000, 0x402000, EPT_RWX), 0);
	check(&e, 0x1ff000, 0x5ff000, 1);
	check(&e, 0x200000, 0x600000, 2);
	check(&e, 0x3fffff, 0x7fffff, 2);
	check(&e, 0x400000, 0x800000, 2);
	check(&e, 0x600000, 0xa00000, 1);
	check_tables(&e, leaves);
	assert_int_equal(leaves[1], 2);
	assert_int_equal(leaves[2], 2);
	assert_false(mapped(&e, 0x1fe000));
	assert_false(mapped(&e, 0x601000));
	/* HPA not 2 MiB-aligned: only 4 KiB leaves are possible. */
	assert_int_equal(ept_map_range(&e, 0x10000000, 0x1000, 2 << 20, EPT_RWX), 0);
	check(&e, 0x10000000, 0x1000, 1);
	check(&e, 0x101ff000, 0x200000, 1);
	assert_false(mapped(&e, 0x10200000));
	/* Holes between two ranges stay holes. */
	assert_int_equal(ept_map_range(&e, 0x20000000, 0x20000000, 0x1000, EPT_RWX), 0);
	assert_int_equal(ept_map_range(&e, 0x20002000, 0x20002000, 0x1000, EPT_RWX), 0);
	assert_false(mapped(&e, 0x20001000));
	check_tables(&e, leaves);
	done(&e);
}

static void test_bad_arguments(void **state)
{
	struct ept e;
	new_ept(&e, true, true);
	assert_int_equal(ept_map_range(&e, 0x123, 0, 4096, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, 0x123, 4096, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, 0, 4095, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 1ULL << 48, 0, 4096, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, (1ULL << 48) - 4096, 0, 8192, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, 1ULL << 52, 4096, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, (1ULL << 52) - 4096, 8192, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0xfffffffffffff000ULL, 0, 0x2000, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, 0), -1);
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, EPT_RWX | EPT_LARGE), -1);
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, EPT_RWX | EPT_MEMTYPE_WB), -1);
	assert_int_equal(ept_unmap_range(&e, 0x800, 4096), -1);
	assert_int_equal(ept_unmap_range(&e, 1ULL << 48, 4096), -1);
	assert_int_equal(e.nr_table_pages, 1); /* nothing allocated */
	/* The highest page below 2^48, and an empty range. */
	assert_int_equal(ept_map_range(&e, (1ULL << 48) - 4096, (1ULL << 52) - 4096, 4096, EPT_RWX), 0);
	check(&e, (1ULL << 48) - 1, (1ULL << 52) - 1, 1);
	assert_int_equal(ept_map_range(&e, 0, 0, 0, EPT_RWX), 0);
	assert_int_equal(ept_unmap_range(&e, 0, 0), 0);
	done(&e);
}

static void test_permissions(void **state)
{
	struct ept e;
	uint64_t h, perms;
	int l;
	new_ept(&e, true, false);
	/* Write without read is a misconfiguration (SDM 29.3.3.1). */
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, EPT_WRITE), -1);
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, EPT_WRITE | EPT_EXEC), -1);
	/* Execute-only only where the CPU supports it. */
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, EPT_EXEC), -1);
	e.allow_exec_only = true;
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, EPT_EXEC), 0);
	assert_true(ept_translate(&e, 0, &h, &perms, &l));
	assert_int_equal(perms, EPT_EXEC);
	assert_int_equal(ept_map_range(&e, 0x200000, 0x200000, 0x200000, EPT_READ), 0);
	assert_true(ept_translate(&e, 0x300000, &h, &perms, &l));
	assert_int_equal(perms, EPT_READ);
	assert_int_equal(l, 2);
	assert_int_equal(ept_map_range(&e, 0x400000, 0x400000, 0x1000, EPT_READ | EPT_WRITE), 0);
	assert_true(ept_translate(&e, 0x400000, &h, &perms, &l));
	assert_int_equal(perms, EPT_READ | EPT_WRITE);
	/* Splitting keeps the permissions of the rest. */
	assert_int_equal(ept_map_range(&e, 0x201000, 0x900000, 0x1000, EPT_RWX), 0);
	assert_true(ept_translate(&e, 0x202000, &h, &perms, &l));
	assert_int_equal(perms, EPT_READ);
	assert_int_equal(h, 0x202000);
	assert_int_equal(l, 1);
	done(&e);
}

static void test_split_large_leaf(void **state)
{
	struct ept e;
	uint64_t leaves[4];
	new_ept(&e, true, true);
	assert_int_equal(ept_map_range(&e, 0, 0x80000000, 1ULL << 30, EPT_RWX), 0);
	check(&e, 0x3fffffff, 0xbfffffff, 3); /* one 1 GiB leaf */
	assert_int_equal(e.nr_table_pages, 2);
	/* Punch a 4 KiB hole: 1G -> 2M table -> 4K table; the rest keeps its
	 * translation. */
	assert_int_equal(ept_unmap_range(&e, 0x345000, 4096), 0);
	assert_false(mapped(&e, 0x345000));
	check(&e, 0x344000, 0x80344000, 1);
	check(&e, 0x346fff, 0x80346fff, 1);
	check(&e, 0x200000, 0x80200000, 1);
	check(&e, 0x1fffff, 0x801fffff, 2);
	check(&e, 0x400000, 0x80400000, 2);
	check(&e, 0x3ff00000, 0xbff00000, 2);
	check_tables(&e, leaves);
	assert_int_equal(leaves[3], 0);
	assert_int_equal(leaves[2], 511);
	assert_int_equal(leaves[1], 511);
	/* Remap the page elsewhere. */
	assert_int_equal(ept_map_range(&e, 0x345000, 0x7000, 4096, EPT_RWX), 0);
	check(&e, 0x345000, 0x7000, 1);
	/* Mapping a 4 KiB page inside a 2 MiB leaf splits it. */
	assert_int_equal(ept_map_range(&e, 0x10001000, 0x5000, 4096, EPT_RWX), 0);
	check(&e, 0x10001000, 0x5000, 1);
	check(&e, 0x10000000, 0x90000000, 1);
	check(&e, 0x10002000, 0x90002000, 1);
	check(&e, 0x101ff000, 0x901ff000, 1);
	check(&e, 0x10200000, 0x90200000, 2);
	/* Mapping the whole 2 MiB again turns it back into one leaf and frees
	 * its page table. */
	uint64_t before = e.nr_table_pages;
	assert_int_equal(ept_map_range(&e, 0x10000000, 0x90000000, 2 << 20, EPT_RWX), 0);
	check(&e, 0x10001000, 0x90001000, 2);
	assert_int_equal(e.nr_table_pages, before - 1);
	/* Unmapping everything frees every table but the PML4. */
	assert_int_equal(ept_unmap_range(&e, 0, 1ULL << 30), 0);
	assert_int_equal(e.nr_table_pages, 1);
	assert_int_equal(allocs - frees, 1);
	done(&e);
}

static void test_1g_leaves(void **state)
{
	struct ept e;
	uint64_t leaves[4];
	/* Allowed: 1 GiB leaves where GPA and HPA line up, 2 MiB around them. */
	new_ept(&e, true, true);
	assert_int_equal(ept_map_range(&e, 0x3fe00000, 0x13fe00000, (2ULL << 30) + (4 << 20), EPT_RWX), 0);
	check(&e, 0x3fe00000, 0x13fe00000, 2);
	check(&e, 0x40000000, 0x140000000, 3);
	check(&e, 0xbfffffff, 0x1bfffffff, 3);
	check(&e, 0xc0000000, 0x1c0000000, 2);
	check_tables(&e, leaves);
	assert_int_equal(leaves[3], 2);
	assert_int_equal(leaves[2], 2);
	assert_int_equal(e.nr_table_pages, 4); /* PML4, PDPT, 2 PDs */
	done(&e);
	/* Not allowed: the same range in 2 MiB leaves. */
	new_ept(&e, true, false);
	assert_int_equal(ept_map_range(&e, 0x3fe00000, 0x13fe00000, (2ULL << 30) + (4 << 20), EPT_RWX), 0);
	check(&e, 0x40000000, 0x140000000, 2);
	check_tables(&e, leaves);
	assert_int_equal(leaves[2], 1026);
	done(&e);
	/* HPA not 1 GiB-aligned: 2 MiB leaves. */
	new_ept(&e, true, true);
	assert_int_equal(ept_map_range(&e, 1ULL << 30, 0x200000, 1ULL << 30, EPT_RWX), 0);
	check(&e, 1ULL << 30, 0x200000, 2);
	done(&e);
	/* A whole 512 GiB PML4 slot unmapped at once. */
	new_ept(&e, true, true);
	assert_int_equal(ept_map_range(&e, 0, 0, 4ULL << 30, EPT_RWX), 0);
	assert_int_equal(ept_map_range(&e, 600ULL << 30, 0, 4096, EPT_RWX), 0);
	assert_int_equal(ept_unmap_range(&e, 0, 512ULL << 30), 0);
	assert_false(mapped(&e, 0));
	check(&e, 600ULL << 30, 0, 1);
	assert_int_equal(ept_unmap_range(&e, 0, 1ULL << 48), 0);
	assert_int_equal(e.nr_table_pages, 1);
	done(&e);
}

static void test_unmap_nothing(void **state)
{
	struct ept e;
	new_ept(&e, true, false);
	assert_int_equal(ept_unmap_range(&e, 0x100000, 64 << 20), 0);
	assert_int_equal(ept_unmap_range(&e, 0, 1ULL << 48), 0);
	assert_int_equal(allocs, 1);
	/* Unmapping part of a map, and a hole in the middle. */
	assert_int_equal(ept_map_range(&e, 0, 0, 8 << 20, EPT_RWX), 0);
	assert_int_equal(ept_unmap_range(&e, 0x300000, 0x3000), 0);
	assert_false(mapped(&e, 0x300000));
	assert_false(mapped(&e, 0x302000));
	check(&e, 0x303000, 0x303000, 1);
	check(&e, 0x2ff000, 0x2ff000, 1); /* the 2 MiB leaf around the hole was split */
	check(&e, 0x1ff000, 0x1ff000, 2);
	/* Unmapping the rest of that 2 MiB frees its page table. */
	uint64_t before = e.nr_table_pages;
	assert_int_equal(ept_unmap_range(&e, 0x200000, 0x100000), 0);
	assert_int_equal(ept_unmap_range(&e, 0x303000, 0xfd000), 0);
	assert_int_equal(e.nr_table_pages, before - 1);
	done(&e);
}

static void test_out_of_memory(void **state)
{
	struct ept e;
	new_ept(&e, false, false);
	budget = 2; /* PDPT and PD, but no page table */
	assert_int_equal(ept_map_range(&e, 0, 0x100000, 8 << 20, EPT_RWX), -1);
	assert_false(mapped(&e, 0));
	assert_int_equal(e.nr_table_pages, 1); /* the empty PDPT and PD went back */
	budget = -1;
	done(&e);
	/* No memory even for the PML4. */
	memset(&e, 0, sizeof(e));
	e.alloc_table = alloc_table;
	e.free_table = free_table;
	budget = 0;
	assert_int_equal(ept_init(&e), -1);
	assert_int_equal(ept_map_range(&e, 0, 0, 4096, EPT_RWX), -1);
	assert_false(mapped(&e, 0));
	budget = -1;
}

/* For every budget from 0 up, one operation on a populated EPT: either it
 * succeeds, or it fails leaving every page either as before or (for a map)
 * as requested, with well-formed tables and nothing leaked. */
static void test_out_of_memory_everywhere(void **state)
{
	struct {
		bool map;
		uint64_t gpa, hpa, size;
		bool m2, g1;
	} ops[] = {
		{ true, 0x7ffff000, 0x123000, 0x1000000, false, false }, /* new PD and page tables */
		{ true, 0x1ff000, 0x5ff000, 0x40402000, true, true },   /* mixed leaves */
		{ false, 0x345000, 0, 0x1000, true, true },             /* split 1G then 2M */
		{ true, 0x40123000, 0x1000, 0x5000, true, true },       /* map into a 1G leaf */
		{ false, 0x3ff000, 0, 0x40202000, true, true },         /* unmap across leaves */
	};
	for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		for (long b = 0;; b++) {
			struct ept e;
			uint64_t leaves[4];
			new_ept(&e, ops[o].m2, ops[o].g1);
			/* Before: 0..2 GiB mapped to 4 GiB.. in the largest leaves. */
			assert_int_equal(ept_map_range(&e, 0, 4ULL << 30, 2ULL << 30, EPT_RWX), 0);
			budget = b;
			int r = ops[o].map ? ept_map_range(&e, ops[o].gpa, ops[o].hpa, ops[o].size, EPT_RWX)
					   : ept_unmap_range(&e, ops[o].gpa, ops[o].size);
			budget = -1;
			check_tables(&e, leaves);
			for (uint64_t gpa = 0; gpa < (3ULL << 30); gpa += 0x1000 * 61) {
				uint64_t h, p;
				int l;
				bool in_op = gpa >= ops[o].gpa && gpa < ops[o].gpa + ops[o].size;
				bool was = gpa < (2ULL << 30);
				bool is = ept_translate(&e, gpa, &h, &p, &l);
				uint64_t old_h = (4ULL << 30) + gpa, new_h = ops[o].hpa + (gpa - ops[o].gpa);
				if (!in_op) {
					assert_int_equal(is, was);
					if (is)
						assert_int_equal(h, old_h);
				} else if (r == 0) {
					assert_int_equal(is, ops[o].map);
					if (is)
						assert_int_equal(h, new_h);
				} else {
					assert_true(!is || (was && h == old_h) || (ops[o].map && h == new_h));
				}
			}
			done(&e);
			if (r == 0)
				break;
			assert_true(b < 100);
		}
	}
}

/* Random maps and unmaps in a 64 MiB window (plus a far-away one), every
 * 4 KiB page compared with a flat model after each step. */
#define WIN_PAGES (64 << 8)
static uint64_t model[WIN_PAGES]; /* hpa + 1 (0 = unmapped) */

static uint64_t rnd(uint64_t n) { return (uint64_t)rand() % n; }

static void test_walk_every_page(void **state)
{
	struct ept e;
	uint64_t leaves[4];
	srand(99);
	for (int cfg = 0; cfg < 3; cfg++) {
		new_ept(&e, cfg > 0, cfg > 1);
		memset(model, 0, sizeof(model));
		for (int step = 0; step < 150; step++) {
			/* Sizes and addresses biased to 2 MiB multiples so large leaves
			 * appear, with 4 KiB offsets sometimes. */
			uint64_t gpa = rnd(32) * (2 << 20) + (rnd(3) ? 0 : rnd(512) * 4096);
			uint64_t size = (rnd(4) ? rnd(8) * (2 << 20) : 0) + (rnd(2) ? rnd(600) * 4096 : 0);
			if (gpa >= (64ULL << 20))
				gpa = (64ULL << 20) - 4096;
			if (size == 0)
				size = 4096;
			if (gpa + size > (64ULL << 20))
				size = (64ULL << 20) - gpa;
			if (rnd(3)) {
				uint64_t hpa = (1ULL << 32) + rnd(64) * (2 << 20) + (rnd(3) ? 0 : rnd(512) * 4096);
				assert_int_equal(ept_map_range(&e, gpa, hpa, size, EPT_RWX), 0);
				for (uint64_t i = 0; i < size / 4096; i++)
					model[gpa / 4096 + i] = hpa + i * 4096 + 1;
			} else {
				assert_int_equal(ept_unmap_range(&e, gpa, size), 0);
				for (uint64_t i = 0; i < size / 4096; i++)
					model[gpa / 4096 + i] = 0;
			}
			for (uint64_t p = 0; p < WIN_PAGES; p++) {
				uint64_t h;
				bool is = ept_translate(&e, p * 4096 + (p % 4096), &h, NULL, NULL);
				if (is != (model[p] != 0))
					fail_msg("step %d: gpa %#lx mapped %d, model %d", step, (unsigned long)(p * 4096),
						 is, model[p] != 0);
				if (is)
					assert_int_equal(h, model[p] - 1 + (p % 4096));
			}
			check_tables(&e, leaves);
		}
		done(&e);
	}
}

static void test_walk_multi_range(void **state)
{
	struct ept e;
	new_ept(&e, true, false);
	/* Three ranges as Keel lays out a guest: low RAM, RAM above 1 MiB, and
	 * a BIOS image at the top of 4 GiB; gaps between them. */
	struct {
		uint64_t gpa, hpa, size;
	} r[] = { { 0, 0x10000000, 0xa0000 },
		  { 0x100000, 0x10100000, 0x1f00000 },
		  { 0x3000000, 0x20001000, 0x801000 },
		  { 0xfffc0000, 0x30000000, 0x40000 } };
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(ept_map_range(&e, r[i].gpa, r[i].hpa, r[i].size, EPT_RWX), 0);
	for (uint64_t gpa = 0; gpa < (1ULL << 32); gpa += 4096) {
		uint64_t want = 0;
		bool is_mapped = false;
		for (unsigned i = 0; i < 4; i++)
			if (gpa >= r[i].gpa && gpa < r[i].gpa + r[i].size) {
				want = r[i].hpa + (gpa - r[i].gpa);
				is_mapped = true;
			}
		uint64_t h;
		assert_int_equal(ept_translate(&e, gpa, &h, NULL, NULL), is_mapped);
		if (is_mapped)
			assert_int_equal(h, want);
	}
	done(&e);
}

/* A guest with 6 GiB of RAM as Keel lays it out (guest_ram.h): 3.5 GiB
 * below the hole, 2.5 GiB from 4 GiB, backed by host blocks above 4 GiB
 * (1 GiB blocks where the allocator had them, 2 MiB chunks elsewhere).
 * Each block becomes the largest leaves its alignment allows, the hole
 * stays unmapped, and the translations above 4 GiB land where the blocks
 * are. */
static void test_guest_ram_above_4g(void **state)
{
	struct ept e;
	uint64_t leaves[4];
	new_ept(&e, true, true);
	/* below the hole: three 1 GiB blocks at host 8, 9, 10 GiB, then
	 * 256 2 MiB chunks from host 0x2c0000000 */
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(ept_map_range(&e, i << 30, (8 + i) << 30, 1ULL << 30, EPT_RWX), 0);
	for (uint64_t c = 0; c < 256; c++)
		assert_int_equal(ept_map_range(&e, (3ULL << 30) + c * 0x200000, 0x2c0000000ULL + c * 0x200000,
					       0x200000, EPT_RWX), 0);
	/* at 4 GiB: two 1 GiB blocks at host 16 and 12 GiB, then 512 MiB of
	 * 2 MiB chunks at host 5 GiB */
	assert_int_equal(ept_map_range(&e, 4ULL << 30, 16ULL << 30, 1ULL << 30, EPT_RWX), 0);
	assert_int_equal(ept_map_range(&e, 5ULL << 30, 12ULL << 30, 1ULL << 30, EPT_RWX), 0);
	assert_int_equal(ept_map_range(&e, 6ULL << 30, 5ULL << 30, 512ULL << 20, EPT_RWX), 0);

	check(&e, 0, 8ULL << 30, 3);
	check(&e, (2ULL << 30) + 0x1234000, (10ULL << 30) + 0x1234000, 3);
	check(&e, 0xdfe00000, 0x2c0000000ULL + 0x1fe00000, 2);
	assert_false(mapped(&e, 0xe0000000));
	assert_false(mapped(&e, 0xfee00000));
	assert_false(mapped(&e, 0xfffff000));
	check(&e, 4ULL << 30, 16ULL << 30, 3);
	check(&e, (5ULL << 30) + 0x3ff000, (12ULL << 30) + 0x3ff000, 3);
	check(&e, 6ULL << 30, 5ULL << 30, 2);
	check(&e, (6ULL << 30) + (512ULL << 20) - 4096, (5ULL << 30) + (512ULL << 20) - 4096, 2);
	assert_false(mapped(&e, (6ULL << 30) + (512ULL << 20)));
	check_tables(&e, leaves);
	assert_int_equal(leaves[3], 5);         /* 1 GiB leaves */
	assert_int_equal(leaves[2], 256 + 256); /* 2 MiB leaves */
	assert_int_equal(leaves[1], 0);
	assert_int_equal(e.nr_table_pages, 4); /* PML4, PDPT, PDs for 3-4 GiB and 6-7 GiB */
	/* Without 1 GiB pages the same RAM takes a PD per GiB. */
	done(&e);
	new_ept(&e, true, false);
	assert_int_equal(ept_map_range(&e, 4ULL << 30, 16ULL << 30, 1ULL << 30, EPT_RWX), 0);
	check(&e, (4ULL << 30) + 0x200000, (16ULL << 30) + 0x200000, 2);
	assert_int_equal(e.nr_table_pages, 3);
	done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_ram_uses_2m_leaves),
		cmocka_unit_test(test_unaligned_edges_and_holes),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_split_large_leaf),
		cmocka_unit_test(test_1g_leaves), cmocka_unit_test(test_guest_ram_above_4g),
		cmocka_unit_test(test_unmap_nothing),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_out_of_memory_everywhere),
		cmocka_unit_test(test_walk_every_page),
		cmocka_unit_test(test_walk_multi_range),
	};
	return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
