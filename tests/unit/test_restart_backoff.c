/* Restart back-off (hvm/restart_backoff.c): free quick restarts, then
 * doubling delays up to the cap, counted from when the guest really
 * restarted; a guest that ran long enough starts afresh. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include <keel/restart_backoff.h>

#define S 1000000000ULL

static void test_tight_loop_backs_off(void **state)
{
	struct restart_backoff b = { 0 };
	bool first;
	uint64_t t = 100 * S, d;
	/* The first request (never restarted before) and RESTART_FREE_QUICK
	 * quick ones: no delay. */
	for (unsigned i = 0; i <= RESTART_FREE_QUICK; i++) {
		d = restart_backoff_next(&b, t, &first);
		assert_int_equal(d, 0);
		assert_false(first);
		t += S / 2;
	}
	/* Then 1 s, 2 s, 4 s... each counted from the delayed restart; the
	 * first delay is flagged once. */
	uint64_t want = S;
	for (int i = 0; i < 12; i++) {
		d = restart_backoff_next(&b, t, &first);
		assert_int_equal(d, want);
		assert_int_equal(first, i == 0);
		t += d + S / 2; /* it waited, restarted, and reset again at once */
		want = want * 2 > RESTART_DELAY_MAX_NS ? RESTART_DELAY_MAX_NS : want * 2;
	}
	assert_int_equal(d, RESTART_DELAY_MAX_NS);
}

static void test_long_run_starts_afresh(void **state)
{
	struct restart_backoff b = { 0 };
	bool first;
	uint64_t t = S;
	for (unsigned i = 0; i < RESTART_FREE_QUICK + 3; i++)
		t += restart_backoff_next(&b, t, &first) + S;
	assert_true(b.delay_ns > 0);
	/* It ran 10 s this time: no delay, and the count starts again. */
	t += RESTART_QUICK_NS;
	assert_int_equal(restart_backoff_next(&b, t, &first), 0);
	for (unsigned i = 0; i < RESTART_FREE_QUICK; i++) {
		t += S;
		assert_int_equal(restart_backoff_next(&b, t, &first), 0);
	}
	t += S;
	assert_int_equal(restart_backoff_next(&b, t, &first), S);
	assert_true(first);
}

static void test_the_delay_is_not_running_time(void **state)
{
	/* A 30 s delay then 5 s of running is a quick restart (5 s), not 35 s. */
	struct restart_backoff b = { 0 };
	bool first;
	uint64_t t = S;
	for (unsigned i = 0; i < RESTART_FREE_QUICK + 6; i++)
		t += restart_backoff_next(&b, t, &first) + S;
	uint64_t d = b.delay_ns;
	assert_true(d >= 16 * S);
	assert_int_equal(restart_backoff_next(&b, t + 4 * S, &first), d * 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tight_loop_backs_off),
		cmocka_unit_test(test_long_run_starts_afresh),
		cmocka_unit_test(test_the_delay_is_not_running_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
