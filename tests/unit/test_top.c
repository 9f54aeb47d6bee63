/* The console's top screen (hvm/top.c) from two snapshots: per-guest CPU
 * share, rates and totals; exit reasons and port ranges sorted by rate,
 * with the cost per exit as stats computes it; restarted guests; one guest
 * selected; the ANSI framing and the 80-column limit; a short buffer. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/top.h>

#define HZ 1000000ULL /* 1 MHz TSC: 1 tick = 1 us */

static struct top_snapshot a, b;
static char screen[16384];

static const char *name_of(uint32_t r)
{
	static char n[32];
	if (r == EXIT_REASON_IO_INSTRUCTION)
		return "I/O instruction";
	if (r == EXIT_REASON_CPUID)
		return "CPUID";
	if (r == EXIT_REASON_HLT)
		return "HLT";
	snprintf(n, sizeof(n), "reason %u", r);
	return n;
}

static struct top_guest *guest(struct top_snapshot *s, unsigned i, const char *name, enum top_guest_state st)
{
	struct top_guest *g = &s->guests[i];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->state = st;
	g->vcpus = 1;
	g->created_tsc = 1000;
	g->ranges[0] = (struct top_range){ "debug", 0xe9, 1 };
	g->ranges[1] = (struct top_range){ "uart", 0x3f8, 8 };
	g->ranges[TOP_PORT_SLOTS - 1] = (struct top_range){ NULL, 0, 0 };
	if (s->nr_guests <= i)
		s->nr_guests = i + 1;
	return g;
}

static void count(struct top_guest *g, uint32_t r, uint64_t n, uint64_t ticks)
{
	g->reasons[r].count = n;
	g->reasons[r].ticks = ticks;
	g->exits = 0;
	g->keel_ticks = 0;
	for (unsigned i = 0; i < TOP_REASONS; i++) {
		g->exits += g->reasons[i].count;
		g->keel_ticks += g->reasons[i].ticks;
	}
}

/* Two snapshots one second apart: g0 busy, g1 halted all along, g2
 * restarted 0.5 s before the second. */
static void setup(void)
{
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.tsc = 10 * HZ;
	b.tsc = 11 * HZ;
	a.nr_cpus = b.nr_cpus = 2;
	a.idle_ticks = 5 * HZ;
	b.idle_ticks = 5 * HZ + HZ / 2; /* 0.5 s of 2 s: 25% idle */

	struct top_guest *g = guest(&a, 0, "g0", TOP_GUEST_RUNNING);
	count(g, EXIT_REASON_IO_INSTRUCTION, 1000, 300000);
	count(g, EXIT_REASON_CPUID, 200, 40000);
	g->ports[0] = (struct top_count){ 900, 270000 };
	g->ports[1] = (struct top_count){ 100, 30000 };
	g->guest_ticks = 4 * HZ;
	g = guest(&b, 0, "g0", TOP_GUEST_RUNNING);
	count(g, EXIT_REASON_IO_INSTRUCTION, 1400, 420000); /* +400/s, +120000 ticks: 12.0% */
	count(g, EXIT_REASON_CPUID, 300, 60000);            /* +100/s */
	g->ports[0] = (struct top_count){ 1250, 375000 };
	g->ports[1] = (struct top_count){ 150, 45000 };
	g->guest_ticks = 4 * HZ + 600000; /* +0.6 s in guest mode, +0.14 s in Keel: 74.0% */

	for (struct top_snapshot *s = &a; s; s = s == &a ? &b : NULL) {
		g = guest(s, 1, "g1", TOP_GUEST_HALTED);
		count(g, EXIT_REASON_HLT, 5000, 5000 * 700);
		count(g, EXIT_REASON_IO_INSTRUCTION, 20, 20 * 333);
		g->ports[0] = (struct top_count){ 20, 20 * 333 };
		g->guest_ticks = HZ;
	}
	g = guest(&a, 2, "g2", TOP_GUEST_RUNNING);
	count(g, EXIT_REASON_CPUID, 99999, 99999 * 10);
	g = guest(&b, 2, "g2", TOP_GUEST_RUNNING);
	g->created_tsc = 10 * HZ + HZ / 2;
	count(g, EXIT_REASON_CPUID, 50, 5000); /* 50 in 0.5 s: 100/s */
	g->guest_ticks = HZ / 4;
}

static const struct top_view all = { HZ, 0, -1, 7, name_of };

/* The screen's line containing text (without "keel: " and the escapes),
 * or fail. */
static const char *find_line(const char *text)
{
	static char l[256];
	const char *p = screen;
	while (*p) {
		const char *e = strchr(p, '\n');
		assert_non_null(e);
		size_t n = (size_t)(e - p);
		assert_true(n < sizeof(l));
		memcpy(l, p, n);
		l[n] = 0;
		if (strstr(l, text)) {
			char *k = strstr(l, "keel: ");
			assert_non_null(k);
			char *esc = strstr(k, "\x1b[K");
			assert_non_null(esc);
			*esc = 0;
			return k + 6;
		}
		p = e + 1;
	}
	fail_msg("no line with '%s' in:\n%s", text, screen);
	return NULL;
}

static void test_guest_lines(void **state)
{
	setup();
	top_format(screen, sizeof(screen), &a, &b, &all);
	char name[32], st[16], cpu[16], keel[16];
	unsigned vcpus;
	unsigned long rate, total;
	assert_int_equal(sscanf(find_line("g0 "), "%31s %15s %u %15s %15s %lu %lu", name, st, &vcpus, cpu, keel, &rate,
				&total),
			 7);
	assert_string_equal(st, "running");
	assert_string_equal(cpu, "74.0");
	assert_string_equal(keel, "14.0");
	assert_int_equal(rate, 500);
	assert_int_equal(total, 1700);
	/* Halted all along: nothing over the interval, its totals still. */
	assert_int_equal(sscanf(find_line("g1 "), "%31s %15s %u %15s %15s %lu %lu", name, st, &vcpus, cpu, keel, &rate,
				&total),
			 7);
	assert_string_equal(st, "halted");
	assert_string_equal(cpu, "0.0");
	assert_int_equal(rate, 0);
	assert_int_equal(total, 5020);
	/* Restarted: counts from zero, over the 0.5 s since it was created. */
	assert_int_equal(sscanf(find_line("g2 "), "%31s %15s %u %15s %15s %lu %lu", name, st, &vcpus, cpu, keel, &rate,
				&total),
			 7);
	assert_int_equal(rate, 100);
	assert_int_equal(total, 50);
	assert_string_equal(cpu, "51.0"); /* (0.25 s + 5000 ticks) of 0.5 s */
	/* The header: frame, uptime, interval, idle share of both CPUs. */
	const char *h = find_line("top 7:");
	assert_non_null(strstr(h, "up 11.00 s"));
	assert_non_null(strstr(h, "rates over 1.00 s"));
	assert_non_null(strstr(h, "2 CPUs 25.0% idle"));
}

static void test_reasons_sorted_by_rate_with_cost(void **state)
{
	setup();
	top_format(screen, sizeof(screen), &a, &b, &all);
	const char *io = strstr(screen, "I/O instruction"), *cpuid = strstr(screen, "CPUID"),
		   *hlt = strstr(screen, "HLT");
	assert_true(io && cpuid && hlt);
	/* 400/s, then CPUID 150/s, then HLT 0/s (the largest total). */
	assert_true(io < cpuid && cpuid < hlt);
	char label[64];
	unsigned long rate, total, per;
	char pct[16];
	assert_int_equal(sscanf(find_line("I/O instruction"), " I/O instruction %lu %lu %lu %15s", &rate, &total, &per,
				pct),
			 4);
	assert_int_equal(rate, 400);
	assert_int_equal(total, 1420);
	assert_int_equal(per, (420000 + 20 * 333) / 1420); /* total ticks / total exits, as stats */
	assert_string_equal(pct, "12.0");
	assert_int_equal(sscanf(find_line("CPUID"), " CPUID %lu %lu %lu", &rate, &total, &per), 3);
	assert_int_equal(rate, 150); /* g0's 100, and g2's 50 since its restart */
	assert_int_equal(total, 350);
	assert_int_equal(sscanf(find_line("HLT"), " HLT %lu %lu %lu %15s", &rate, &total, &per, pct), 4);
	assert_int_equal(rate, 0);
	assert_int_equal(per, 700);
	assert_string_equal(pct, "0.0");
	/* Port ranges of g0 and g1 merged by device; named as stats names them. */
	assert_int_equal(sscanf(find_line("debug 0xe9-0xe9"), " debug 0xe9-0xe9 %lu %lu", &rate, &total), 2);
	assert_int_equal(rate, 350);
	assert_int_equal(total, 1270);
	assert_int_equal(sscanf(find_line("uart 0x3f8-0x3ff"), " uart 0x3f8-0x3ff %lu %lu", &rate, &total), 2);
	assert_int_equal(rate, 50);
	(void)label;
}

static void test_one_guest_selected(void **state)
{
	setup();
	struct top_view v = all;
	v.guest = 1;
	top_format(screen, sizeof(screen), &a, &b, &v);
	assert_non_null(strstr(screen, "exits of g1"));
	assert_null(strstr(screen, "CPUID")); /* g0's and g2's only */
	unsigned long rate, total;
	assert_int_equal(sscanf(find_line("I/O instruction"), " I/O instruction %lu %lu", &rate, &total), 2);
	assert_int_equal(total, 20);
	/* Every guest still has its line. */
	find_line("g0 ");
	find_line("g2 ");
}

static void test_first_frame_rates_since_entry(void **state)
{
	setup();
	struct top_view v = all;
	v.boot_tsc = 9 * HZ; /* Keel's entry: 2 s before the snapshot */
	top_format(screen, sizeof(screen), NULL, &b, &v);
	unsigned long rate, total;
	assert_non_null(strstr(find_line("top 7:"), "rates over 2.00 s"));
	assert_int_equal(sscanf(find_line("HLT"), " HLT %lu %lu", &rate, &total), 2);
	assert_int_equal(rate, 2500);
}

static void test_ansi_framing_and_width(void **state)
{
	setup();
	size_t n = top_format(screen, sizeof(screen), &a, &b, &all);
	assert_int_equal(n, strlen(screen));
	assert_memory_equal(screen, "\x1b[Hkeel: top 7:", 15);
	assert_string_equal(screen + n - 3, "\x1b[J");
	unsigned lines = 0;
	for (const char *p = screen + 3; *p && strcmp(p, "\x1b[J"); lines++) {
		const char *e = strchr(p, '\n');
		assert_non_null(e);
		assert_memory_equal(e - 3, "\x1b[K", 3);
		assert_memory_equal(p, "keel: ", 6);
		assert_true(e - 3 - p <= 80);
		for (const char *q = p; q < e - 3; q++)
			assert_true(*q >= 0x20 && *q < 0x7f); /* no other escape or control */
		p = e + 1;
	}
	assert_true(lines >= 10);
}

static void test_short_buffer(void **state)
{
	setup();
	char small[300];
	memset(small, 'Z', sizeof(small));
	size_t n = top_format(small, 200, &a, &b, &all);
	assert_true(n < 200);
	assert_int_equal(strlen(small), n);
	assert_int_equal(small[n - 1], '\n'); /* whole lines only */
	assert_int_equal(small[200], 'Z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_lines),
		cmocka_unit_test(test_reasons_sorted_by_rate_with_cost),
		cmocka_unit_test(test_one_guest_selected),
		cmocka_unit_test(test_first_frame_rates_since_entry),
		cmocka_unit_test(test_ansi_framing_and_width),
		cmocka_unit_test(test_short_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
