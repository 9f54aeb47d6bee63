/* kvsnprintf against glibc's snprintf for the formats Keel uses. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/format.h>

static void check(const char *fmt, ...)
{
	char a[256], b[256];
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int na = kvsnprintf(a, sizeof(a), fmt, ap);
	int nb = vsnprintf(b, sizeof(b), fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (strcmp(a, b) != 0 || na != nb)
		fail_msg("format \"%s\": keel \"%s\" (%d), libc \"%s\" (%d)", fmt, a, na, b, nb);
}

static void test_integers(void **state)
{
	check("%d %i %u", 0, -1, 42u);
	check("%d", -2147483647 - 1);
	check("%ld %lu %lx", -5L, 18446744073709551615UL, 0xdeadbeefcafeUL);
	check("%lld %llu", -9223372036854775807LL - 1, 12345678901234ULL);
	check("%zu %zx", (size_t)77, (size_t)0xabc);
	check("%hhu %hd %hx", 300, 70000, 0x12345);
	check("%x %X %o", 0xabcdu, 0xabcdu, 8u);
	check("%#x %#X %#o %#x", 255u, 255u, 8u, 0u);
}

static void test_width_precision_flags(void **state)
{
	check("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	check("[%08lx] [%-8x|] [%.3d] [%8.3d] [%-8.3d|]", 0x1234UL, 0xabu, 7, 7, -7);
	check("[%*d] [%-*d] [%.*d]", 6, 1, 6, 2, 4, 3);
	check("[%.0d] [%.0x]", 0, 0u);
	check("[%05d] [%-05d]", -42, -42);
	check("[%#010x]", 0x1fu);
}

static void test_strings_chars(void **state)
{
	check("[%s] [%10s] [%-10s] [%.2s] [%c] [%3c]", "abc", "abc", "abc", "abc", 'x', 'y');
	check("%%");
	char out[16];
	const char *volatile nul = NULL;
	int n = ksnprintf(out, sizeof(out), "%s", nul);
	assert_int_equal(n, 6);
	assert_string_equal(out, "(null)");
	check("%p", (void *)0x1234);
}

static void test_truncation(void **state)
{
	char small[8];
	int n = ksnprintf(small, sizeof(small), "0123456789");
	assert_int_equal(n, 10);
	assert_string_equal(small, "0123456");
	n = ksnprintf(small, 0, "abc");
	assert_int_equal(n, 3);
	n = ksnprintf(small, 1, "abc");
	assert_int_equal(n, 3);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_width_precision_flags),
		cmocka_unit_test(test_strings_chars),
		cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
