/* A guest's share of the console (hvm/output_budget.c): the burst, the
 * steady rate, no loss of fractional tokens, long idle periods, and the
 * few report lines a flooding guest gets. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <keel/output_budget.h>

#define S 1000000000ULL

static void test_burst_then_rate(void **state)
{
	struct output_budget b;
	output_budget_init(&b, 1000, 4000, 5 * S);
	/* The whole burst at once, then nothing more at the same instant. */
	for (int i = 0; i < 40; i++)
		assert_true(output_budget_take(&b, 5 * S, 100));
	assert_false(output_budget_take(&b, 5 * S, 1));
	assert_int_equal(b.lines, 1);
	assert_int_equal(b.bytes, 1);
	/* One second later: exactly the rate. */
	assert_true(output_budget_take(&b, 6 * S, 1000));
	assert_false(output_budget_take(&b, 6 * S, 1));
	/* A line longer than the burst never fits. */
	assert_false(output_budget_take(&b, 1000 * S, 4001));
	assert_true(output_budget_take(&b, 1000 * S, 4000));
}

static void test_small_steps_lose_nothing(void **state)
{
	struct output_budget b;
	output_budget_init(&b, 1000, 1000, 0);
	assert_true(output_budget_take(&b, 0, 1000));
	/* 1000 steps of 0.4 ms: 400 bytes' worth, though each step alone
	 * earns less than one byte. */
	uint64_t t = 0, got = 0;
	for (int i = 0; i < 1000; i++) {
		t += 400000;
		if (output_budget_take(&b, t, 1))
			got++;
	}
	assert_in_range(got, 399, 400);
}

static void test_time_going_backwards_is_harmless(void **state)
{
	struct output_budget b;
	output_budget_init(&b, 1000, 1000, 10 * S);
	assert_true(output_budget_take(&b, 10 * S, 1000));
	assert_false(output_budget_take(&b, 9 * S, 1));
	assert_true(output_budget_take(&b, 11 * S, 1000));
}

static void test_a_flood_gets_few_report_lines(void **state)
{
	struct output_budget b;
	output_budget_init(&b, 2048, 16384, 0);
	unsigned starts = 0, summaries = 0;
	uint64_t reported_lines = 0;
	/* A line of 72 bytes every 10 us for 60 s. */
	for (uint64_t t = 0; t < 60 * S; t += 10000) {
		output_budget_take(&b, t, 72);
		switch (output_budget_report_due(&b, t, false)) {
		case OUTPUT_REPORT_START:
			starts++;
			break;
		case OUTPUT_REPORT_SUMMARY:
			summaries++;
			reported_lines += b.lines;
			output_budget_reported(&b, t);
			break;
		case OUTPUT_REPORT_NONE:
			break;
		}
	}
	assert_int_equal(starts, 1);
	assert_in_range(summaries, 11, 12); /* every 5 s */
	/* The final report (at stop) carries the rest: nothing uncounted. */
	if (output_budget_report_due(&b, 60 * S, true) == OUTPUT_REPORT_SUMMARY)
		reported_lines += b.lines;
	assert_int_equal(reported_lines, b.total_lines);
	/* What got through: the burst plus the rate, no more. */
	uint64_t passed = 6000000 - b.total_lines;
	assert_in_range(passed * 72, 16384 + 60 * 2048 - 72 * 2, 16384 + 60 * 2048);
}

static void test_drops_for_a_full_queue_count_too(void **state)
{
	struct output_budget b;
	output_budget_init(&b, 2048, 16384, 0);
	assert_int_equal(output_budget_report_due(&b, 0, false), OUTPUT_REPORT_NONE);
	output_budget_drop(&b, 50);
	assert_int_equal(output_budget_report_due(&b, 0, false), OUTPUT_REPORT_START);
	assert_int_equal(output_budget_report_due(&b, 1, false), OUTPUT_REPORT_NONE);
	assert_int_equal(output_budget_report_due(&b, 2, true), OUTPUT_REPORT_SUMMARY);
	assert_int_equal(b.total_bytes, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_small_steps_lose_nothing),
		cmocka_unit_test(test_time_going_backwards_is_harmless),
		cmocka_unit_test(test_a_flood_gets_few_report_lines),
		cmocka_unit_test(test_drops_for_a_full_queue_count_too),
	};
	return cmocka_run_group_tests_name("output_budget", tests, NULL, NULL);
}
