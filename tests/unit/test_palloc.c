/* The physical page allocator: never hands out reserved pages, honours
 * alignment, survives a random alloc/free workload checked against a model. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/palloc.h>

#define LIMIT (64ULL << 20) /* 64 MiB map = 16384 pages */
static uint8_t bitmap[LIMIT / 4096 / 8];

static void setup_map(struct palloc *pa)
{
	palloc_init(pa, bitmap, LIMIT);
	palloc_add_free(pa, 0, 0x9fc00);           /* low RAM, partial last page */
	palloc_add_free(pa, 0x100000, 48ULL << 20); /* 1 MiB .. 49 MiB */
	palloc_add_free(pa, 60ULL << 20, 100ULL << 20); /* clipped at the 64 MiB limit */
	palloc_reserve(pa, 0, 0x100000);             /* first MiB */
	palloc_reserve(pa, 0x200123, 0x5000);        /* Keel image: rounds outward */
	palloc_reserve(pa, 0x800000, 0x400000);      /* modules */
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
	uint64_t n = 0, a;
	while ((a = palloc_alloc(&pa, 1, 4096)) != 0) {
		assert_false(reserved(a));
		assert_int_equal(a % 4096, 0);
		n++;
	}
	assert_int_equal(n * 4096, expect);
	assert_int_equal(palloc_free_bytes(&pa), 0);
}

static void test_alignment_and_runs(void **state)
{
	struct palloc pa;
	setup_map(&pa);
	uint64_t a = palloc_alloc(&pa, 512, 2 << 20);
	assert_int_not_equal(a, 0);
	assert_int_equal(a % (2 << 20), 0);
	for (uint64_t p = a; p < a + (2 << 20); p += 4096)
		assert_false(reserved(p));
	/* 16 MiB aligned to 16 MiB fits only at 16 MiB or 32 MiB. */
	uint64_t b = palloc_alloc(&pa, 4096, 16 << 20);
	assert_true(b == (16 << 20) || b == (32 << 20));
	assert_int_equal(palloc_alloc(&pa, 100000, 4096), 0); /* more than exists */
	assert_int_equal(palloc_alloc(&pa, 0, 4096), 0);
	uint64_t before = palloc_free_bytes(&pa);
	palloc_free(&pa, b, 4096);
	assert_int_equal(palloc_free_bytes(&pa), before + (16 << 20));
	assert_true(palloc_largest_free_run(&pa, 4096) >= (16 << 20));
	/* Double and invalid frees are counted, not applied. */
	palloc_free(&pa, b, 1);
	palloc_free(&pa, 0, 1);
	palloc_free(&pa, 123, 1);
	assert_int_equal(pa.double_frees, 3);
	assert_int_equal(palloc_free_bytes(&pa), before + (16 << 20));
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
			uint64_t n = 1 + rand() % 64, align = 4096ULL << (rand() % 6);
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
			unsigned k = rand() % nlive;
			for (uint64_t i = 0; i < live[k].n; i++)
				owner[live[k].addr / 4096 + i] = 0;
			palloc_free(&pa, live[k].addr, live[k].n);
			live[k] = live[--nlive];
		}
	}
	assert_int_equal(pa.double_frees, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_returns_reserved),
		cmocka_unit_test(test_alignment_and_runs),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests_name("palloc", tests, NULL, NULL);
}
