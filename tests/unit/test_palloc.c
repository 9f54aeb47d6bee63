/* The physical page allocator: never hands out reserved pages (checked
 * exhaustively on small maps), alignment up to 1 GiB, fragmentation,
 * exhaustion, double frees, limit clipping, speed on a 4 GiB map, and a
 * random alloc/free workload checked page by page against a model; growing
 * the map past 4 GiB and allocations that must stay below a limit. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <keel/palloc.h>

#define LIMIT (64ULL << 20) /* 64 MiB map = 16384 pages */
static uint8_t bitmap[PALLOC_BITMAP_BYTES(LIMIT)];
static uint8_t big_bitmap[PALLOC_BITMAP_BYTES(4ULL << 30)];

/* The layout Keel sees: low RAM with a partial last page, RAM from 1 MiB,
 * a hole, RAM running past the limit; then its reservations. */
static void setup_map(struct palloc *pa)
{
	palloc_init(pa, bitmap, LIMIT);
	palloc_add_free(pa, 0, 0x9fc00);
	palloc_add_free(pa, 0x100000, 48ULL << 20);     /* 1 MiB .. 49 MiB */
	palloc_add_free(pa, 60ULL << 20, 100ULL << 20); /* clipped at 64 MiB */
	palloc_reserve(pa, 0, 0x100000);                /* the first MiB */
	palloc_reserve(pa, 0x200123, 0x5000);           /* Keel's image: rounds outward to 0x200000-0x206000 */
	palloc_reserve(pa, 0x800000, 0x400000);         /* modules */
}

static int reserved(uint64_t a)
{
	return a < 0x100000 || (a >= 0x200000 && a < 0x206000) || (a >= 0x800000 && a < 0xc00000) ||
	       (a >= (49ULL << 20) && a < (60ULL << 20)) || a >= LIMIT;
}

static void test_never_returns_reserved(void **state)
{
	struct palloc pa;
	setup_map(&pa);
	uint64_t expect = (48ULL << 20) - 0x6000 - 0x400000 + (4ULL << 20);
	assert_int_equal(palloc_free_bytes(&pa), expect);
	assert_int_equal(pa.total_pages * 4096, expect);
	uint64_t n = 0, a, last = 0;
	while ((a = palloc_alloc(&pa, 1, 4096)) != 0) {
		assert_false(reserved(a));
		assert_true(a > last); /* first fit: lowest address first */
		last = a;
		n++;
	}
	assert_int_equal(n * 4096, expect);
	assert_int_equal(palloc_free_bytes(&pa), 0);
	assert_int_equal(palloc_largest_free_run(&pa, 4096), 0);
}

/* Every combination of a few free and reserved ranges on a 200-page map:
 * the pages handed out are exactly the model's free pages, whatever the
 * alignment and size asked for. */
static void test_exhaustive_small_maps(void **state)
{
	enum { PAGES = 200 };
	static uint8_t bm[PALLOC_BITMAP_BYTES(PAGES * 4096ULL)];
	srand(7);
	for (int round = 0; round < 400; round++) {
		struct palloc pa;
		bool model[PAGES] = { false };
		palloc_init(&pa, bm, PAGES * 4096ULL);
		int nadd = 1 + rand() % 4, nres = rand() % 4;
		for (int i = 0; i < nadd; i++) {
			uint64_t base = (uint64_t)(rand() % (PAGES * 4096 + 20000)), len = (uint64_t)(rand() % 300000);
			palloc_add_free(&pa, base, len);
			for (uint64_t p = (base + 4095) / 4096; p < (base + len) / 4096 && p < PAGES; p++)
				if (p)
					model[p] = true;
		}
		for (int i = 0; i < nres; i++) {
			uint64_t base = (uint64_t)(rand() % (PAGES * 4096)), len = (uint64_t)(1 + rand() % 100000);
			palloc_reserve(&pa, base, len);
			for (uint64_t p = base / 4096; p < (base + len + 4095) / 4096 && p < PAGES; p++)
				model[p] = false;
		}
		uint64_t nfree = 0;
		for (int p = 0; p < PAGES; p++)
			nfree += model[p];
		assert_int_equal(pa.free_pages, nfree);
		assert_int_equal(pa.total_pages, nfree);
		for (int p = 0; p < PAGES; p++)
			assert_int_equal(palloc_page_is_free(&pa, (uint64_t)p * 4096), model[p]);

		/* Allocate until nothing fits, with a random size and alignment
		 * each time; every result must be the lowest fit in the model. */
		for (;;) {
			uint64_t n = 1 + (uint64_t)(rand() % 6), align = 4096ULL << (rand() % 5);
			uint64_t want = 0;
			for (uint64_t s = align / 4096; s + n <= PAGES && !want; s += align / 4096) {
				uint64_t k = 0;
				while (k < n && model[s + k])
					k++;
				if (k == n)
					want = s * 4096;
			}
			uint64_t got = palloc_alloc(&pa, n, align);
			assert_int_equal(got, want);
			if (!got) {
				/* Nothing of that shape: take a single page, or stop when
				 * none is left. */
				uint64_t lowest = 0;
				for (uint64_t q = 1; q < PAGES && !lowest; q++)
					if (model[q])
						lowest = q * 4096;
				n = 1;
				got = palloc_alloc(&pa, 1, 4096);
				assert_int_equal(got, lowest);
				if (!got)
					break;
			}
			for (uint64_t k = 0; k < n; k++) {
				assert_true(model[got / 4096 + k]);
				model[got / 4096 + k] = false;
			}
		}
		for (int p = 0; p < PAGES; p++)
			assert_false(palloc_page_is_free(&pa, (uint64_t)p * 4096));
	}
}

static void test_alignment_and_runs(void **state)
{
	struct palloc pa;
	setup_map(&pa);
	uint64_t a = palloc_alloc(&pa, 512, 2 << 20);
	assert_int_equal(a, 0x400000); /* 0x200000 is cut by Keel's image */
	for (uint64_t p = a; p < a + (2 << 20); p += 4096)
		assert_false(reserved(p));
	/* 16 MiB aligned to 16 MiB fits only at 16 MiB or 32 MiB. */
	uint64_t b = palloc_alloc(&pa, 4096, 16 << 20);
	assert_int_equal(b, 16 << 20);
	assert_int_equal(palloc_alloc(&pa, 4096, 16 << 20), 32 << 20);
	assert_int_equal(palloc_alloc(&pa, 4096, 16 << 20), 0); /* 48 MiB is cut by the hole */
	assert_int_equal(palloc_alloc(&pa, 100000, 4096), 0);  /* more than exists */
	assert_int_equal(palloc_alloc(&pa, 0, 4096), 0);
	assert_int_equal(palloc_alloc(&pa, 1, 3 * 4096), 0); /* not a power of two */
	/* Alignments of 0 and below a page mean "a page". */
	uint64_t c = palloc_alloc(&pa, 1, 0), d = palloc_alloc(&pa, 1, 8);
	assert_true(c && d && c % 4096 == 0 && d % 4096 == 0);
	uint64_t before = palloc_free_bytes(&pa);
	palloc_free(&pa, b, 4096);
	assert_int_equal(palloc_free_bytes(&pa), before + (16 << 20));
	assert_int_equal(palloc_largest_free_run(&pa, 16 << 20), 16 << 20);
	assert_true(palloc_largest_free_run(&pa, 4096) >= (16 << 20));
	assert_int_equal(palloc_largest_free_run(&pa, 3 << 20), 0); /* not a power of two */
	/* Freed memory is handed out again, lowest first. */
	assert_int_equal(palloc_alloc(&pa, 4096, 16 << 20), 16 << 20);
}

static void test_double_and_invalid_frees(void **state)
{
	struct palloc pa;
	setup_map(&pa);
	uint64_t a = palloc_alloc(&pa, 4, 4096);
	uint64_t before = palloc_free_bytes(&pa);
	assert_int_equal(palloc_try_free(&pa, a, 4), 0);
	assert_int_equal(palloc_try_free(&pa, a, 4), -1);     /* double free */
	assert_int_equal(palloc_try_free(&pa, a, 1), -1);
	assert_int_equal(palloc_try_free(&pa, 0, 1), -1);     /* page 0 */
	assert_int_equal(palloc_try_free(&pa, 123, 1), -1);   /* unaligned */
	assert_int_equal(palloc_try_free(&pa, LIMIT, 1), -1); /* past the limit */
	assert_int_equal(palloc_try_free(&pa, LIMIT - 4096, 2), -1);
	assert_int_equal(palloc_try_free(&pa, 4096, UINT64_MAX), -1);
	assert_int_equal(palloc_try_free(&pa, a, 0), 0); /* nothing to do */
	assert_int_equal(palloc_free_bytes(&pa), before + 4 * 4096);
	/* Partly free: refused as a whole, nothing changes. */
	uint64_t b = palloc_alloc(&pa, 8, 4096);
	palloc_free(&pa, b + 4096, 1);
	uint64_t mid = palloc_free_bytes(&pa);
	palloc_free(&pa, b, 8);
	assert_int_equal(palloc_free_bytes(&pa), mid);
	assert_false(palloc_page_is_free(&pa, b));
	palloc_free(&pa, 0, 1);
	palloc_free(&pa, 123, 1);
	assert_int_equal(pa.double_frees, 3);
}

static void test_fragmentation_and_exhaustion(void **state)
{
	struct palloc pa;
	palloc_init(&pa, bitmap, LIMIT);
	palloc_add_free(&pa, 0x100000, 0x100000); /* 256 pages at 1 MiB */
	uint64_t pages[256];
	for (int i = 0; i < 256; i++)
		pages[i] = palloc_alloc(&pa, 1, 4096);
	assert_int_equal(palloc_alloc(&pa, 1, 4096), 0); /* exhausted */
	for (int i = 0; i < 256; i += 2)
		palloc_free(&pa, pages[i], 1);
	/* Half free, but no two pages in a row. */
	assert_int_equal(palloc_free_bytes(&pa), 128 * 4096);
	assert_int_equal(palloc_largest_free_run(&pa, 4096), 4096);
	assert_int_equal(palloc_alloc(&pa, 2, 4096), 0);
	assert_int_equal(palloc_alloc(&pa, 1, 8192), pages[0]); /* the even pages are 8 KiB aligned */
	palloc_free(&pa, pages[1], 1);
	palloc_free(&pa, pages[3], 1);
	assert_int_equal(palloc_largest_free_run(&pa, 4096), 4 * 4096); /* pages 1..4 */
	assert_int_equal(palloc_alloc(&pa, 5, 4096), 0);
	palloc_free(&pa, pages[0], 1);
	assert_int_equal(palloc_largest_free_run(&pa, 4096), 5 * 4096);
	assert_int_equal(palloc_alloc(&pa, 5, 4096), pages[0]);
	assert_int_equal(pa.double_frees, 0);
}

static void test_overlaps_and_limit(void **state)
{
	struct palloc pa;
	/* A limit that is not a whole number of bitmap words, nor of bytes
	 * (1001 pages: the last byte holds page 1000 and 7 bits past it). */
	static uint8_t bm[PALLOC_BITMAP_BYTES(1001 * 4096ULL)];
	assert_int_equal(sizeof(bm), 126);
	memset(bm, 0, sizeof(bm));
	palloc_init(&pa, bm, 1001 * 4096ULL + 100); /* partial page ignored */
	assert_int_equal(pa.nr_pages, 1001);
	palloc_add_free(&pa, 0, UINT64_MAX); /* everything: clipped, page 0 kept back */
	assert_int_equal(pa.free_pages, 1000);
	assert_int_equal(bm[125], 0xfe); /* bits past the limit stay set */
	palloc_add_free(&pa, 0x5000, 0x5000); /* overlapping again: counted once */
	assert_int_equal(pa.free_pages, 1000);
	assert_int_equal(pa.total_pages, 1000);
	palloc_reserve(&pa, 0x3fff, 2); /* touches pages 3 and 4 */
	assert_int_equal(pa.free_pages, 998);
	palloc_reserve(&pa, 990 * 4096, UINT64_MAX); /* wraps: up to the limit */
	assert_int_equal(pa.free_pages, 987);
	palloc_reserve(&pa, 5000 * 4096, 4096); /* past the limit: nothing */
	palloc_reserve(&pa, 0x10000, 0);        /* empty */
	assert_int_equal(pa.free_pages, 987);
	assert_int_equal(pa.total_pages, 987);
	assert_false(palloc_page_is_free(&pa, 3 * 4096));
	assert_false(palloc_page_is_free(&pa, 4 * 4096));
	assert_true(palloc_page_is_free(&pa, 5 * 4096));
	assert_false(palloc_page_is_free(&pa, 1000 * 4096));
	assert_false(palloc_page_is_free(&pa, 1001 * 4096));
	/* Free: pages 1-2 and 5-989; aligned to 64 pages, 64-989 is the most. */
	assert_int_equal(palloc_largest_free_run(&pa, 4096), 985 * 4096);
	assert_int_equal(palloc_largest_free_run(&pa, 64 * 4096), 926 * 4096);
	assert_int_equal(palloc_alloc(&pa, 927, 64 * 4096), 0);
	assert_int_equal(palloc_alloc(&pa, 926, 64 * 4096), 64 * 4096);
	assert_int_equal(palloc_alloc(&pa, 59, 4096), 5 * 4096);
	assert_int_equal(palloc_alloc(&pa, 2, 4096), 1 * 4096);
	assert_int_equal(pa.free_pages, 0);
	assert_int_equal(palloc_alloc(&pa, 1, 4096), 0);
	/* add_free rounds inward: a region smaller than a page adds nothing. */
	palloc_init(&pa, bm, 1001 * 4096ULL);
	palloc_add_free(&pa, 0x1001, 0xfff);
	palloc_add_free(&pa, 0x2800, 0x1000);
	palloc_add_free(&pa, UINT64_MAX - 10, 5);
	palloc_add_free(&pa, 0x4000, 0);
	assert_int_equal(pa.free_pages, 0);
}

static void test_large_alignment_is_fast(void **state)
{
	/* A 4 GiB map with a hole below 1 MiB, RAM to 3 GiB, the PCI hole. */
	struct palloc pa;
	palloc_init(&pa, big_bitmap, 4ULL << 30);
	palloc_add_free(&pa, 0x100000, (3ULL << 30) - 0x100000);
	palloc_reserve(&pa, 0x100000, 0x300000);
	clock_t t0 = clock();
	/* 2 MiB-aligned 32 MiB blocks until memory runs out, with single pages
	 * in between, as Keel allocates guest RAM and EPT tables. */
	unsigned blocks = 0;
	for (;;) {
		uint64_t a = palloc_alloc(&pa, 8192, 2 << 20);
		if (!a)
			break;
		assert_int_equal(a % (2 << 20), 0);
		assert_int_not_equal(palloc_alloc(&pa, 1, 4096), 0);
		blocks++;
	}
	/* First fit: the first single page opens a gap before the second block
	 * (at 38 MiB); every later single page goes into that gap, so the other
	 * blocks are back to back: 1 + (3068 - 34) / 32 blocks in 3068 MiB. A
	 * next-fit allocator would lose 2 MiB per block (90 blocks). */
	assert_int_equal(blocks, 95);
	/* 1 GiB alignment: the only 1 GiB-aligned start left is none. */
	assert_int_equal(palloc_alloc(&pa, 1, 1ULL << 30), 0);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("palloc: %u x 32 MiB 2M-aligned + single pages on a 4 GiB map: %.3f ms\n", blocks,
		      secs * 1000);
	assert_true(secs < 0.5);

	palloc_init(&pa, big_bitmap, 4ULL << 30);
	palloc_add_free(&pa, 0x100000, (4ULL << 30) - 0x100000);
	t0 = clock();
	for (int i = 0; i < 1000; i++) {
		uint64_t a = palloc_alloc(&pa, 8192, 2 << 20);
		assert_int_equal(a, 2 << 20);
		palloc_free(&pa, a, 8192);
	}
	uint64_t g = palloc_alloc(&pa, 262144, 1ULL << 30);
	assert_int_equal(g, 1ULL << 30);
	assert_int_equal(palloc_alloc(&pa, 262144, 1ULL << 30), 2ULL << 30);
	assert_int_equal(palloc_alloc(&pa, 262144, 1ULL << 30), 3ULL << 30);
	assert_int_equal(palloc_alloc(&pa, 1, 1ULL << 30), 0);
	assert_int_equal(palloc_largest_free_run(&pa, 2 << 20), (1ULL << 30) - (2 << 20));
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("palloc: 1000 x (alloc+free 32 MiB) + 3 x 1 GiB on a 4 GiB map: %.3f ms\n", secs * 1000);
	assert_true(secs < 0.5);
}

static void test_random_against_model(void **state)
{
	struct palloc pa;
	static uint8_t owner[LIMIT / 4096];
	struct {
		uint64_t addr, n;
	} live[256];
	unsigned nlive = 0;
	setup_map(&pa);
	memset(owner, 0, sizeof(owner));
	srand(1234);
	for (int step = 0; step < 20000; step++) {
		if (nlive < 256 && (rand() % 3 || nlive == 0)) {
			uint64_t n = 1 + (uint64_t)(rand() % 64), align = 4096ULL << (rand() % 6);
			uint64_t a = palloc_alloc(&pa, n, align);
			if (!a)
				continue;
			assert_int_equal(a % align, 0);
			for (uint64_t i = 0; i < n; i++) {
				assert_false(reserved(a + i * 4096));
				assert_int_equal(owner[a / 4096 + i], 0); /* never handed out twice */
				owner[a / 4096 + i] = 1;
			}
			live[nlive].addr = a;
			live[nlive++].n = n;
		} else {
			unsigned k = (unsigned)rand() % nlive;
			for (uint64_t i = 0; i < live[k].n; i++)
				owner[live[k].addr / 4096 + i] = 0;
			palloc_free(&pa, live[k].addr, live[k].n);
			live[k] = live[--nlive];
		}
		if (step % 1000 == 0) {
			/* The bitmap agrees with the model page by page. */
			uint64_t used = 0;
			for (uint64_t p = 0; p < LIMIT / 4096; p++) {
				bool f = palloc_page_is_free(&pa, p * 4096);
				assert_true(!f || (!owner[p] && !reserved(p * 4096)));
				assert_true(f || owner[p] || reserved(p * 4096));
				used += owner[p];
			}
			assert_int_equal(pa.free_pages + used, pa.total_pages);
		}
	}
	assert_int_equal(pa.double_frees, 0);
}

/* Keel starts with a 4 GiB bitmap and grows it once RAM above 4 GiB is
 * mapped: what was allocated stays allocated, the new range starts used
 * until added, and allocations then reach it. */
static void test_grow_past_4g(void **state)
{
	static uint8_t grown[PALLOC_BITMAP_BYTES(16ULL << 30)];
	struct palloc pa;
	palloc_init(&pa, big_bitmap, 4ULL << 30);
	palloc_add_free(&pa, 0x100000, 0xdff00000); /* RAM up to the hole at 3.5 GiB */
	uint64_t low = palloc_alloc(&pa, 1, 4096);
	assert_int_equal(low, 0x100000);
	uint64_t free_before = palloc_free_bytes(&pa);

	memset(grown, 0, sizeof(grown)); /* palloc_grow must not trust its contents */
	palloc_grow(&pa, grown, 16ULL << 30);
	assert_int_equal(pa.nr_pages, (16ULL << 30) / 4096);
	assert_int_equal(palloc_free_bytes(&pa), free_before);
	assert_false(palloc_page_is_free(&pa, 0x100000));
	assert_true(palloc_page_is_free(&pa, 0x101000));
	assert_false(palloc_page_is_free(&pa, 5ULL << 30)); /* not added yet */
	assert_false(palloc_page_is_free(&pa, 0xe0000000)); /* the hole */

	palloc_add_free(&pa, 4ULL << 30, 12ULL << 30);
	assert_int_equal(palloc_free_bytes(&pa), free_before + (12ULL << 30));
	/* A 1 GiB-aligned 4 GiB run exists only above 4 GiB. */
	uint64_t big = palloc_alloc(&pa, (4ULL << 30) / 4096, 1ULL << 30);
	assert_int_equal(big, 4ULL << 30);
	/* Growing to a smaller limit changes nothing. */
	palloc_grow(&pa, bitmap, LIMIT);
	assert_ptr_equal(pa.bitmap, grown);
	assert_int_equal(palloc_try_free(&pa, big, (4ULL << 30) / 4096), 0);
	assert_int_equal(palloc_largest_free_run(&pa, 1ULL << 30), 12ULL << 30);
}

/* A limit that is not a byte boundary of the old bitmap: the bits past
 * the old limit in its last byte must read as used after growing. */
static void test_grow_from_odd_limit(void **state)
{
	static uint8_t small[PALLOC_BITMAP_BYTES(0x3000)], larger[PALLOC_BITMAP_BYTES(0x40000)];
	struct palloc pa;
	palloc_init(&pa, small, 0x3000);
	palloc_add_free(&pa, 0, 0x3000);
	small[0] &= 0x07; /* garbage past the limit: bits 3-7 clear */
	palloc_grow(&pa, larger, 0x40000);
	for (uint64_t a = 0x3000; a < 0x40000; a += 0x1000)
		assert_false(palloc_page_is_free(&pa, a));
	assert_true(palloc_page_is_free(&pa, 0x1000));
	assert_int_equal(palloc_free_bytes(&pa), 0x2000);
}

static void test_alloc_below_limit(void **state)
{
	struct palloc pa;
	setup_map(&pa);
	/* The lowest free run is 0x100000.. (reserved first MiB), so a limit
	 * below it finds nothing and leaves everything free. */
	uint64_t free_before = palloc_free_bytes(&pa);
	assert_int_equal(palloc_alloc_below(&pa, 1, 4096, 0x100000), 0);
	assert_int_equal(palloc_free_bytes(&pa), free_before);
	/* 4 KiB below 2 MiB: the first free page. */
	assert_int_equal(palloc_alloc_below(&pa, 1, 4096, 0x200000), 0x100000);
	/* A run that would end past the limit is refused. */
	assert_int_equal(palloc_alloc_below(&pa, 256, 4096, 0x200000), 0);
	assert_int_equal(palloc_alloc_below(&pa, 255, 4096, 0x200000), 0x101000);
	assert_int_equal(palloc_alloc_below(&pa, 1, 4096, 0x200000), 0);
	assert_int_equal(palloc_alloc_below(&pa, 1, 4096, UINT64_MAX), 0x206000);
}

/* Top-down allocation: the highest aligned run, skipping runs too small or
 * misaligned, never page 0, and the same pages as a model would give. */
static void test_alloc_top(void **state)
{
	struct palloc pa;
	setup_map(&pa);
	/* RAM: 0x1000-0x9f000 (page 0 never), 1 MiB-49 MiB minus reservations,
	 * 60-64 MiB. */
	assert_int_equal(palloc_alloc_top(&pa, 1, 4096), LIMIT - 4096);
	/* 60 MiB-64 MiB less its last page: the aligned 2 MiB run is at 60. */
	assert_int_equal(palloc_alloc_top(&pa, 512, 0x200000), 60ULL << 20);
	/* 62 MiB up to the last page is 511 pages: a 2 MiB run must come
	 * from below 49 MiB, aligned down. */
	assert_int_equal(palloc_alloc_top(&pa, 512, 0x200000), 46ULL << 20);
	assert_int_equal(palloc_alloc_top(&pa, 512, 0x200000), 44ULL << 20);
	/* 511 pages fit exactly in the hole left at the top. */
	assert_int_equal(palloc_alloc_top(&pa, 511, 4096), 62ULL << 20);
	/* 48-49 MiB is free: a 1 MiB run with 1 MiB alignment lands there. */
	assert_int_equal(palloc_alloc_top(&pa, 256, 0x100000), 48ULL << 20);
	/* Too large for any run: nothing changes. */
	uint64_t before = palloc_free_bytes(&pa);
	assert_int_equal(palloc_alloc_top(&pa, 20000, 4096), 0);
	assert_int_equal(palloc_free_bytes(&pa), before);
	/* Drain everything from the top: page 0 and reserved pages are never
	 * returned, each page once. */
	uint64_t n = 0, last = UINT64_MAX;
	for (uint64_t a; (a = palloc_alloc_top(&pa, 1, 4096)) != 0; n++) {
		assert_false(reserved(a));
		assert_true(a < last);
		last = a;
	}
	assert_int_equal(n * 4096, before);
	assert_int_equal(palloc_free_bytes(&pa), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_returns_reserved),
		cmocka_unit_test(test_exhaustive_small_maps),
		cmocka_unit_test(test_alignment_and_runs),
		cmocka_unit_test(test_double_and_invalid_frees),
		cmocka_unit_test(test_fragmentation_and_exhaustion),
		cmocka_unit_test(test_overlaps_and_limit),
		cmocka_unit_test(test_large_alignment_is_fast),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_grow_past_4g),
		cmocka_unit_test(test_grow_from_odd_limit),
		cmocka_unit_test(test_alloc_below_limit),
		cmocka_unit_test(test_alloc_top),
	};
	return cmocka_run_group_tests_name("palloc", tests, NULL, NULL);
}
