/* The host APIC mode decision (lib/apic_mode.c): each fact that selects
 * x2APIC, the command line both ways, and a CPU without x2APIC. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/apic_mode.h>

static char why[128];

static enum apic_mode choose(bool has, bool fw, bool madt, uint32_t max_id, enum apic_request req)
{
	struct apic_mode_facts f = { has, fw, madt, max_id, req };
	memset(why, 0, sizeof(why));
	enum apic_mode m = apic_mode_choose(&f, why, sizeof(why));
	assert_true(why[0] != 0);
	return m;
}

static void expect_why(const char *needle)
{
	if (!strstr(why, needle))
		fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
}

static void test_legacy_machine_stays_xapic(void **state)
{
	assert_int_equal(choose(true, false, false, 3, APIC_REQUEST_AUTO), APIC_MODE_XAPIC);
	expect_why("nothing calls for x2APIC");
	assert_int_equal(choose(false, false, false, 3, APIC_REQUEST_AUTO), APIC_MODE_XAPIC);
	expect_why("no x2APIC");
}

static void test_each_fact_selects_x2apic(void **state)
{
	assert_int_equal(choose(true, true, false, 3, APIC_REQUEST_AUTO), APIC_MODE_X2APIC);
	expect_why("firmware handed over in x2APIC mode");
	assert_int_equal(choose(true, false, true, 3, APIC_REQUEST_AUTO), APIC_MODE_X2APIC);
	expect_why("x2APIC entries");
	assert_int_equal(choose(true, false, false, 255, APIC_REQUEST_AUTO), APIC_MODE_X2APIC);
	expect_why("APIC id 255");
	assert_int_equal(choose(true, false, false, 254, APIC_REQUEST_AUTO), APIC_MODE_XAPIC);
}

static void test_command_line(void **state)
{
	assert_int_equal(choose(true, false, false, 1, APIC_REQUEST_X2APIC), APIC_MODE_X2APIC);
	expect_why("apic=x2apic");
	assert_int_equal(choose(true, true, true, 1, APIC_REQUEST_XAPIC), APIC_MODE_XAPIC);
	expect_why("leaving the firmware's x2APIC mode");
	/* An id xAPIC cannot reach wins over apic=xapic. */
	assert_int_equal(choose(true, false, false, 300, APIC_REQUEST_XAPIC), APIC_MODE_X2APIC);
	expect_why("overridden");
	/* No x2APIC on the CPU: asked for or needed, it says so. */
	assert_int_equal(choose(false, false, false, 1, APIC_REQUEST_X2APIC), APIC_MODE_XAPIC);
	expect_why("CPUID.1:ECX[21]=0");
	assert_int_equal(choose(false, false, true, 300, APIC_REQUEST_AUTO), APIC_MODE_XAPIC);
	expect_why("cannot be started");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_machine_stays_xapic),
		cmocka_unit_test(test_each_fact_selects_x2apic),
		cmocka_unit_test(test_command_line),
	};
	return cmocka_run_group_tests_name("apic_mode", tests, NULL, NULL);
}
