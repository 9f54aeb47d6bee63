/* MC146818 RTC/CMOS: time in BCD and binary, 12/24 h, UIP, periodic IRQ8,
 * register C, the memory-size fields and the checksum. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fakes.h"
#include <keel/iobus.h>
#include <keel/vrtc.h>

static struct io_bus bus;
static struct vrtc rtc;
static struct fake_clock clk;
static struct fake_irq irq;

static uint8_t cmos(uint8_t idx)
{
	iobus_write(&bus, 0x70, 1, idx);
	return (uint8_t)iobus_read(&bus, 0x71, 1);
}
static void cmos_w(uint8_t idx, uint8_t v)
{
	iobus_write(&bus, 0x70, 1, idx);
	iobus_write(&bus, 0x71, 1, v);
}
static void setup(void)
{
	struct vrtc_time t = { 2026, 11, 25, 23, 59, 58, 0 };
	fake_clock_init(&clk);
	clk.ns = 0;
	iobus_init(&bus);
	vrtc_init(&rtc, &clk.vc, fake_irq_line(&irq), &t);
	assert_int_equal(vrtc_register(&rtc, &bus), 0);
}

static void test_time_bcd_binary_12h(void **state)
{
	setup();
	cmos_w(0x0a, 0x26); /* SeaBIOS rtc_setup */
	cmos_w(0x0b, 0x02); /* 24 h, BCD */
	assert_int_equal(cmos(0x00), 0x58);
	assert_int_equal(cmos(0x02), 0x59);
	assert_int_equal(cmos(0x04), 0x23);
	assert_int_equal(cmos(0x07), 0x25);
	assert_int_equal(cmos(0x08), 0x11);
	assert_int_equal(cmos(0x09), 0x26);
	assert_int_equal(cmos(0x32), 0x20);
	assert_int_equal(cmos(0x06), 4); /* 2026-11-25 is a Wednesday (1 = Sunday) */
	clk.ns += 3000000000ULL; /* three seconds: next day */
	assert_int_equal(cmos(0x00), 0x01);
	assert_int_equal(cmos(0x04), 0x00);
	assert_int_equal(cmos(0x07), 0x26);
	cmos_w(0x0b, 0x06); /* binary, 24 h */
	assert_int_equal(cmos(0x07), 26);
	cmos_w(0x0b, 0x00); /* BCD, 12 h: 00:00 is 12 AM */
	assert_int_equal(cmos(0x04), 0x12);
	/* Setting the time: 13:30 written in 24 h BCD. */
	cmos_w(0x0b, 0x82);
	cmos_w(0x04, 0x13);
	cmos_w(0x02, 0x30);
	cmos_w(0x0b, 0x02);
	assert_int_equal(cmos(0x04), 0x13);
	assert_int_equal(cmos(0x02), 0x30);
	cmos_w(0x0b, 0x00);
	assert_int_equal(cmos(0x04), 0x81); /* 1 PM */
}

static void test_uip_window(void **state)
{
	setup();
	clk.ns = 500000000; /* mid-second: no update in progress */
	assert_int_equal(cmos(0x0a) & 0x80, 0);
	clk.ns = 999900000; /* inside the last 244 us */
	assert_int_equal(cmos(0x0a) & 0x80, 0x80);
	clk.ns = 1000100000;
	assert_int_equal(cmos(0x0a) & 0x80, 0);
}

static void test_periodic_irq8_and_reg_c(void **state)
{
	setup();
	cmos_w(0x0a, 0x26);            /* 1024 Hz */
	cmos_w(0x0b, 0x02 | 0x40);     /* PIE */
	vrtc_update(&rtc);
	uint64_t d = vrtc_next_deadline_ns(&rtc);
	assert_true(d > clk.ns && d - clk.ns <= 976563);
	clk.ns = d;
	vrtc_update(&rtc);
	assert_int_equal(irq.rises[8], 1);
	uint8_t c = cmos(0x0c);
	assert_int_equal(c & 0xc0, 0xc0); /* IRQF | PF */
	assert_int_equal(cmos(0x0c) & 0x40, 0); /* reading C cleared it */
	cmos_w(0x0b, 0x02);            /* PIE off: no more interrupts */
	clk.ns += 10000000;
	vrtc_update(&rtc);
	assert_int_equal(irq.rises[8], 1);
	assert_int_equal(cmos(0x0d), 0x80);
}

static void test_memory_fields_and_checksum(void **state)
{
	setup();
	vrtc_set_memory(&rtc, 32ULL << 20, 0);
	assert_int_equal(cmos(0x15) | cmos(0x16) << 8, 640);
	assert_int_equal(cmos(0x17) | cmos(0x18) << 8, 31 * 1024);
	assert_int_equal(cmos(0x30) | cmos(0x31) << 8, 31 * 1024);
	assert_int_equal(cmos(0x34) | cmos(0x35) << 8, (16 << 20) >> 16);
	vrtc_set_memory(&rtc, 3ULL << 30, 2ULL << 30);
	assert_int_equal(cmos(0x17) | cmos(0x18) << 8, 0xffff); /* capped */
	assert_int_equal(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16, (2ULL << 30) >> 16);
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += cmos((uint8_t)i);
	assert_int_equal(cmos(0x2e) << 8 | cmos(0x2f), sum & 0xffff);
	cmos_w(0x20, 0x5a); /* a write in the range updates the checksum */
	assert_int_equal(cmos(0x2e) << 8 | cmos(0x2f), (sum + 0x5a) & 0xffff);
	assert_int_equal(cmos(0x3d), 0x02); /* boot from hard disk */
	/* NMI mask bit 7 of the index is remembered, not part of the index. */
	iobus_write(&bus, 0x70, 1, 0x8f);
	assert_true(vrtc_nmi_masked(&rtc));
	assert_int_equal(iobus_read(&bus, 0x71, 1), cmos(0x0f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_bcd_binary_12h),
		cmocka_unit_test(test_uip_window),
		cmocka_unit_test(test_periodic_irq8_and_reg_c),
		cmocka_unit_test(test_memory_fields_and_checksum),
	};
	return cmocka_run_group_tests_name("vrtc", tests, NULL, NULL);
}
