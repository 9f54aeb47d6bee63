/* Layout of string I/O elements (hvm/io_string.c): runs stop at page ends
 * and at the address-size wrap, an element that straddles a page is the
 * two-piece case (0), and a buffer running across a 2 MiB chunk boundary is
 * cut there like at any page boundary, never refused. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include <keel/io_string.h>

#define M32 0xffffffffULL
#define M16 0xffffULL

static void test_whole_page_runs(void **state)
{
	/* rep insw of a sector at a page start: one run of 256. */
	assert_int_equal(io_string_run(0x10000, 0x10000, M32, 2, false, 256), 256);
	/* Limited by the page end: 0x1fff00 has 256 bytes left = 128 words. */
	assert_int_equal(io_string_run(0x1fff00, 0x1fff00, M32, 2, false, 256), 128);
	/* Limited by what is left to do. */
	assert_int_equal(io_string_run(0x1fff00, 0x1fff00, M32, 4, false, 3), 3);
	/* Backwards: one element at a time. */
	assert_int_equal(io_string_run(0x1fff00, 0x1fff00, M32, 2, true, 256), 1);
}

static void test_chunk_boundary(void **state)
{
	/* The last word before 2 MiB fits whole; the next one starts a new run. */
	assert_int_equal(io_string_run(0x1ffffe, 0x1ffffe, M32, 2, false, 10), 1);
	assert_int_equal(io_string_run(0x200000, 0x200000, M32, 2, false, 9), 9);
	/* A word at 0x1fffff and a dword at 0x1ffffe straddle it: pieces. */
	assert_int_equal(io_string_run(0x1fffff, 0x1fffff, M32, 2, false, 10), 0);
	assert_int_equal(io_string_first_piece(0x1fffff, 2), 1);
	assert_int_equal(io_string_run(0x1ffffe, 0x1ffffe, M32, 4, false, 10), 0);
	assert_int_equal(io_string_first_piece(0x1ffffe, 4), 2);
	/* Backwards too. */
	assert_int_equal(io_string_run(0x1ffffd, 0x1ffffd, M32, 4, true, 10), 0);
	assert_int_equal(io_string_first_piece(0x1ffffd, 4), 3);
	/* Bytes never straddle. */
	assert_int_equal(io_string_run(0x1fffff, 0x1fffff, M32, 1, false, 10), 1);
}

static void test_address_size_wrap(void **state)
{
	/* 16-bit addressing: a run stops at offset 0xffff's end... */
	assert_int_equal(io_string_run(0x1fff0, 0xfff0, M16, 2, false, 100), 8);
	/* ...and a word at offset 0xffff wraps: moved alone (0). */
	assert_int_equal(io_string_run(0x1ffff - 0x10, 0xffff, M16, 2, false, 100), 0);
	assert_int_equal(io_string_first_piece(0x1ffff - 0x10, 2), 2); /* within one page */
	/* 64-bit addressing has no wrap to speak of. */
	assert_int_equal(io_string_run(0x3000, 0x3000, ~0ULL, 4, false, 5000), 1024);
	assert_int_equal(io_string_run(0x3000, 0, ~0ULL, 4, false, 5000), 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_page_runs),
		cmocka_unit_test(test_chunk_boundary),
		cmocka_unit_test(test_address_size_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
