/* The per-guest limit on Keel's log lines a guest can cause
 * (include/keel/guest_log.h): each kind logged its first 8 times, then
 * at the 10th, 100th, 1000th..., counted separately per kind. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <keel/guest_log.h>

static void test_due(void **state)
{
	for (uint64_t n = 1; n <= 8; n++)
		assert_true(guest_log_due(n));
	assert_false(guest_log_due(9));
	assert_true(guest_log_due(10));
	assert_false(guest_log_due(11));
	assert_false(guest_log_due(20));
	assert_false(guest_log_due(99));
	assert_true(guest_log_due(100));
	assert_false(guest_log_due(200));
	assert_true(guest_log_due(1000000000000ULL));
	assert_false(guest_log_due(1000000000001ULL));
}

static void test_bounded_per_kind(void **state)
{
	/* A million events of one kind: 8 + 6 lines; the other kinds keep
	 * their own allowance. */
	struct guest_log_counts c = { 0 };
	unsigned lines = 0;
	for (unsigned i = 0; i < 1000000; i++)
		lines += guest_log_count(&c, GLOG_APIC_MOVE);
	assert_int_equal(lines, 14);
	assert_int_equal(c.count[GLOG_APIC_MOVE], 1000000);
	assert_true(guest_log_count(&c, GLOG_INIT_BOOT_VCPU));
	assert_int_equal(c.count[GLOG_INIT_BOOT_VCPU], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_bounded_per_kind),
	};
	return cmocka_run_group_tests_name("guest log limit", tests, NULL, NULL);
}
