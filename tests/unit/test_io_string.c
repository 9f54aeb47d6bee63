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
	assert_int_equal(io_string_run(0x1ffffe, 0x1ffffe, M32, 4, false, 10), 0);
	/* Backwards too. */
	assert_int_equal(io_string_run(0x1ffffd, 0x1ffffd, M32, 4, true, 10), 0);
	/* Bytes never straddle. */
	assert_int_equal(io_string_run(0x1fffff, 0x1fffff, M32, 1, false, 10), 1);
}

static void test_address_size_wrap(void **state)
{
	/* 16-bit addressing: a run stops at offset 0xffff's end... */
	assert_int_equal(io_string_run(0x1fff0, 0xfff0, M16, 2, false, 100), 8);
	/* ...and a word at offset 0xffff wraps: moved alone (0). */
	assert_int_equal(io_string_run(0x1ffff - 0x10, 0xffff, M16, 2, false, 100), 0);
	/* 64-bit addressing has no wrap to speak of. */
	assert_int_equal(io_string_run(0x3000, 0x3000, ~0ULL, 4, false, 5000), 1024);
	assert_int_equal(io_string_run(0x3000, 0, ~0ULL, 4, false, 5000), 1024);
}

/* Where each byte is: the segment base (none for ES/DS/SS/CS in 64-bit
 * mode, SDM 3.4.2.1), the offset wrapped at the address size, the linear
 * address wrapped at 4 GiB outside 64-bit mode. Keel used the ES/DS base
 * in 64-bit mode, and the byte after offset 0xffff at base + 0x10000. */
static void test_linear_addresses(void **state)
{
	/* 64-bit mode: DS and ES bases ignored, FS and GS kept. */
	assert_int_equal(io_string_seg_base(IO_SEG_ES, 0x12340000, true), 0);
	assert_int_equal(io_string_seg_base(IO_SEG_DS, 0x12340000, true), 0);
	assert_int_equal(io_string_seg_base(IO_SEG_SS, 0x12340000, true), 0);
	assert_int_equal(io_string_seg_base(IO_SEG_FS, 0x12340000, true), 0x12340000);
	assert_int_equal(io_string_seg_base(IO_SEG_GS, 0xffff800000000000ULL, true), 0xffff800000000000ULL);
	/* Outside it every base counts. */
	assert_int_equal(io_string_seg_base(IO_SEG_DS, 0x12340000, false), 0x12340000);
	/* 16-bit addressing: the byte after DS:0xffff is DS:0. */
	assert_int_equal(io_string_linear(0x20000, 0xffff, M16, false), 0x2ffff);
	assert_int_equal(io_string_linear(0x20000, 0xffff + 1, M16, false), 0x20000);
	assert_int_equal(io_string_linear(0x20000, 0xffff + 3, M16, false), 0x20002);
	/* 32-bit: the linear address wraps at 4 GiB. */
	assert_int_equal(io_string_linear(0xfffff000, 0x2000, M32, false), 0x1000);
	/* 64-bit: no wrap at 4 GiB. */
	assert_int_equal(io_string_linear(0, 0x100000000ULL, ~0ULL, true), 0x100000000ULL);
	assert_int_equal(io_string_linear(0xfffff000, 0x2000, M32, true), 0x100001000ULL);
	/* A word at offset 0xffff is moved alone, byte by byte. */
	assert_int_equal(io_string_run(0x2ffff, 0xffff, M16, 2, false, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_page_runs),
		cmocka_unit_test(test_chunk_boundary),
		cmocka_unit_test(test_address_size_wrap),
		cmocka_unit_test(test_linear_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
