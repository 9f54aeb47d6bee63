/* 8259A pair, driven through its ports as SeaBIOS and Linux drive it. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <keel/iobus.h>
#include <keel/vpic.h>

static struct io_bus bus;
static struct vpic pic;

static void out(uint16_t port, uint8_t v) { iobus_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)iobus_read(&bus, port, 1); }

/* SeaBIOS pic_setup (src/hw/pic.c): ICW1 0x11, ICW2 0x08/0x70, ICW3, ICW4 0x01, mask 0xFFFB. */
static void seabios_init(void)
{
	iobus_init(&bus);
	vpic_init(&pic);
	assert_int_equal(vpic_register(&pic, &bus), 0);
	out(0x20, 0x11);
	out(0xa0, 0x11);
	out(0x21, 0x08);
	out(0xa1, 0x70);
	out(0x21, 0x04);
	out(0xa1, 0x02);
	out(0x21, 0x01);
	out(0xa1, 0x01);
	out(0x21, 0xfb);
	out(0xa1, 0xff);
}

static void test_init_masks_and_delivery(void **state)
{
	seabios_init();
	assert_int_equal(in(0x21), 0xfb);
	assert_int_equal(vpic_pending_vector(&pic), -1);
	assert_false(vpic_irq_requested(&pic, 0));
	vpic_set_irq(&pic, 0, 1); /* masked: not delivered, but latched */
	vpic_set_irq(&pic, 0, 0);
	assert_int_equal(vpic_pending_vector(&pic), -1);
	assert_true(vpic_irq_requested(&pic, 0));
	assert_false(vpic_irq_requested(&pic, 8));
	assert_false(vpic_irq_requested(&pic, 99));
	out(0x21, 0xfa); /* unmask IRQ0 */
	assert_int_equal(vpic_pending_vector(&pic), 0x08);
	assert_int_equal(vpic_ack(&pic), 0x08);
	assert_int_equal(vpic_pending_vector(&pic), -1);
	out(0x20, 0x0b); /* OCW3: read ISR */
	assert_int_equal(in(0x20), 0x01);
	/* A second tick while IRQ0 is in service waits for the EOI. */
	vpic_set_irq(&pic, 0, 1);
	vpic_set_irq(&pic, 0, 0);
	assert_int_equal(vpic_pending_vector(&pic), -1);
	out(0x20, 0x20); /* non-specific EOI */
	assert_int_equal(vpic_pending_vector(&pic), 0x08);
	assert_int_equal(pic.acks[0], 1);
}

static void test_priority_and_cascade(void **state)
{
	seabios_init();
	out(0x21, 0x00);
	out(0xa1, 0x00);
	vpic_set_irq(&pic, 14, 1); /* slave IRQ14 (ATA) arrives via master IRQ2 */
	vpic_set_irq(&pic, 4, 1);  /* master IRQ4 (COM1): lower priority than IRQ2 */
	assert_int_equal(vpic_pending_vector(&pic), 0x76);
	assert_int_equal(vpic_ack(&pic), 0x76);
	/* IRQ2 in service blocks IRQ4 (lower priority) until EOIs. */
	assert_int_equal(vpic_pending_vector(&pic), -1);
	vpic_set_irq(&pic, 1, 1); /* keyboard: higher priority than 2, preempts */
	assert_int_equal(vpic_pending_vector(&pic), 0x09);
	assert_int_equal(vpic_ack(&pic), 0x09);
	out(0x20, 0x20); /* EOI IRQ1 */
	out(0xa0, 0x20); /* EOI slave */
	out(0x20, 0x20); /* EOI master IRQ2 */
	vpic_set_irq(&pic, 14, 0);
	assert_int_equal(vpic_pending_vector(&pic), 0x0c); /* IRQ4 finally */
}

static void test_level_elcr_and_spurious(void **state)
{
	seabios_init();
	out(0x21, 0x00);
	out(0xa1, 0x00);
	iobus_write(&bus, 0x4d1, 1, 0xff); /* try every slave line level */
	assert_int_equal(iobus_read(&bus, 0x4d1, 1), 0xde); /* IRQ8 and IRQ13 stay edge */
	vpic_set_irq(&pic, 10, 1);
	assert_int_equal(vpic_ack(&pic), 0x72);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	/* Still asserted (level): requested again. */
	assert_int_equal(vpic_pending_vector(&pic), 0x72);
	vpic_set_irq(&pic, 10, 0);
	assert_int_equal(vpic_pending_vector(&pic), -1);
	/* INTA with nothing pending: IRQ7's vector, ISR untouched, counted. */
	assert_int_equal(vpic_ack(&pic), 0x0f);
	out(0x20, 0x0b);
	assert_int_equal(in(0x20), 0x00);
	assert_int_equal(pic.spurious, 1);
}

static void test_rotate_poll_and_specific_eoi(void **state)
{
	seabios_init();
	out(0x21, 0x00);
	for (unsigned i = 3; i <= 5; i++) {
		vpic_set_irq(&pic, i, 1);
		vpic_set_irq(&pic, i, 0);
	}
	assert_int_equal(vpic_ack(&pic), 0x0b);
	out(0x20, 0xa0); /* rotate on non-specific EOI: IRQ3 becomes lowest */
	vpic_set_irq(&pic, 3, 1);
	vpic_set_irq(&pic, 3, 0);
	assert_int_equal(vpic_ack(&pic), 0x0c); /* IRQ4 now beats IRQ3 */
	out(0x20, 0x64); /* specific EOI for IRQ4 */
	out(0x20, 0x0c); /* poll */
	assert_int_equal(in(0x20), 0x80 | 5);
	out(0x20, 0x65);
	out(0x20, 0x0c);
	assert_int_equal(in(0x20), 0x80 | 3);
}

static void test_auto_eoi(void **state)
{
	iobus_init(&bus);
	vpic_init(&pic);
	vpic_register(&pic, &bus);
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x03); /* ICW4: 8086 mode, auto-EOI */
	out(0x21, 0x00);
	vpic_set_irq(&pic, 0, 1);
	vpic_set_irq(&pic, 0, 0);
	assert_int_equal(vpic_ack(&pic), 0x20);
	out(0x20, 0x0b);
	assert_int_equal(in(0x20), 0x00); /* nothing left in service */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_masks_and_delivery),
		cmocka_unit_test(test_priority_and_cascade),
		cmocka_unit_test(test_level_elcr_and_spurious),
		cmocka_unit_test(test_rotate_poll_and_specific_eoi),
		cmocka_unit_test(test_auto_eoi),
	};
	return cmocka_run_group_tests_name("vpic", tests, NULL, NULL);
}
