/* 8254 PIT and port 0x61, as SeaBIOS's TSC calibration and pit_setup, and
 * GRUB's and Linux's timer code, drive them. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fakes.h"
#include <keel/iobus.h>
#include <keel/vpit.h>

static struct io_bus bus;
static struct vpit pit;
static struct fake_clock clk;
static struct fake_irq irq;

static void out(uint16_t port, uint8_t v) { iobus_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)iobus_read(&bus, port, 1); }
static void setup(void)
{
	fake_clock_init(&clk);
	iobus_init(&bus);
	vpit_init(&pit, &clk.vc, fake_irq_line(&irq));
	assert_int_equal(vpit_register(&pit, &bus), 0);
}
static uint64_t ticks_ns(uint64_t t) { return (t * 1000000000ULL + 1193181) / 1193182; } /* rounded up */

static void test_seabios_tsc_calibration(void **state)
{
	setup();
	/* timer.c: gate on, speaker off; ch2 mode 0 lo/hi; count 0x800. */
	out(0x61, (in(0x61) & ~0x02) | 0x01);
	out(0x43, 0xb0);
	out(0x42, 0x00);
	out(0x42, 0x08);
	assert_int_equal(in(0x61) & 0x20, 0); /* OUT2 low while counting */
	clk.ns += ticks_ns(0x7f0);
	assert_int_equal(in(0x61) & 0x20, 0);
	clk.ns += ticks_ns(0x20);
	assert_int_equal(in(0x61) & 0x20, 0x20); /* high after 0x800 ticks = 1.716 ms */
	/* Gate low stops the count; gate high again resumes (mode 0). */
	out(0x43, 0xb0);
	out(0x42, 0x00);
	out(0x42, 0x10);
	clk.ns += ticks_ns(0x100);
	out(0x61, 0x00);
	clk.ns += ticks_ns(0x5000);
	assert_int_equal(in(0x61) & 0x20, 0);
	out(0x61, 0x01);
	clk.ns += ticks_ns(0xf10);
	assert_int_equal(in(0x61) & 0x20, 0x20);
}

static void test_periodic_irq0_and_coalescing(void **state)
{
	setup();
	/* SeaBIOS pit_setup: ch0 mode 2, count 0 (65536) = 18.2 Hz. */
	out(0x43, 0x34);
	out(0x40, 0);
	out(0x40, 0);
	uint64_t period = ticks_ns(65536);
	uint64_t d = vpit_next_deadline_ns(&pit);
	assert_true(d > clk.ns && d <= clk.ns + period + 1);
	vpit_update(&pit);
	assert_int_equal(irq.rises[0], 0);
	clk.ns = d;
	vpit_update(&pit);
	assert_int_equal(irq.rises[0], 1);
	vpit_update(&pit); /* no new period yet: nothing */
	assert_int_equal(irq.rises[0], 1);
	/* Descheduled for 10 periods: one interrupt, 9 coalesced. */
	clk.ns += 10 * period;
	vpit_update(&pit);
	assert_int_equal(irq.rises[0], 2);
	assert_int_equal(pit.ticks_coalesced, 9);
}

static void test_count_one_is_clamped(void **state)
{
	setup();
	out(0x43, 0x34);
	out(0x40, 1);
	out(0x40, 0);
	uint64_t start = clk.ns;
	uint64_t d = vpit_next_deadline_ns(&pit);
	/* At most one IRQ0 per VPIT_MIN_PERIOD_TICKS, not one per 838 ns. */
	assert_true(d - start >= ticks_ns(VPIT_MIN_PERIOD_TICKS) - 1);
	unsigned n = 0;
	for (clk.ns = start; clk.ns < start + 1000000; clk.ns += 1000) {
		vpit_update(&pit);
	}
	n = irq.rises[0];
	assert_true(n <= 1000000 / ticks_ns(VPIT_MIN_PERIOD_TICKS) + 1);
	assert_true(n > 0);
}

static void test_latch_and_readback(void **state)
{
	setup();
	out(0x43, 0x34);
	out(0x40, 0x00);
	out(0x40, 0x10); /* 0x1000 */
	clk.ns += ticks_ns(0x100);
	out(0x43, 0x00); /* latch ch0 */
	clk.ns += ticks_ns(0x200); /* the latched value does not move */
	uint8_t lo = in(0x40), hi = in(0x40);
	assert_int_equal((hi << 8 | lo), 0x1000 - 0x100);
	/* Read-back: status and count of ch0 (SeaBIOS without TSC: 0xD2). */
	out(0x43, 0xc2);
	uint8_t st = in(0x40);
	assert_int_equal(st & 0x3f, 0x34); /* rw=3, mode 2, binary */
	lo = in(0x40);
	hi = in(0x40);
	assert_int_equal((hi << 8 | lo), 0x1000 - 0x300);
	/* Live reads without a latch, lo then hi. */
	clk.ns += ticks_ns(0x10);
	lo = in(0x40);
	hi = in(0x40);
	assert_int_equal((hi << 8 | lo), 0x1000 - 0x310);
}

static void test_mode0_oneshot_and_square_wave(void **state)
{
	setup();
	out(0x43, 0x30); /* ch0 mode 0 */
	out(0x40, 0x00);
	out(0x40, 0x01); /* 256 ticks */
	clk.ns += ticks_ns(300);
	vpit_update(&pit);
	vpit_update(&pit);
	clk.ns += ticks_ns(70000);
	vpit_update(&pit);
	assert_int_equal(irq.rises[0], 1); /* once only */
	assert_int_equal(vpit_next_deadline_ns(&pit), NO_DEADLINE);
	/* ch2 square wave: OUT2 high for the first half of each period. */
	out(0x61, 0x01);
	out(0x43, 0xb6);
	out(0x42, 100);
	out(0x42, 0);
	clk.ns += ticks_ns(10);
	assert_int_equal(in(0x61) & 0x20, 0x20);
	clk.ns += ticks_ns(50);
	assert_int_equal(in(0x61) & 0x20, 0);
	/* Port 0x61 bit 4 toggles with time (refresh). */
	uint8_t a = in(0x61) & 0x10;
	clk.ns += 15085;
	assert_int_not_equal(in(0x61) & 0x10, a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seabios_tsc_calibration),
		cmocka_unit_test(test_periodic_irq0_and_coalescing),
		cmocka_unit_test(test_count_one_is_clamped),
		cmocka_unit_test(test_latch_and_readback),
		cmocka_unit_test(test_mode0_oneshot_and_square_wave),
	};
	return cmocka_run_group_tests_name("vpit", tests, NULL, NULL);
}
