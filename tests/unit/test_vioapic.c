/* I/O APIC model and ISA routing: registers through IOREGSEL/IOWIN, edge
 * and level entries delivered to the local APICs, remote IRR and EOI, the
 * 8259A path kept while the I/O APIC is masked. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <keel/vioapic.h>
#include <keel/virq.h>
#include <keel/vlapic.h>
#include <keel/vpic.h>

#include "fakes.h"

static struct fake_clock clk;
static struct vlapic_bus bus;
static struct vlapic lapic[2];
static struct vioapic io;
static uint32_t pages[2][1024];

static void eoi_level(void *ctx, uint8_t v) { vioapic_eoi(ctx, v); }
static const struct vlapic_bus_ops ops = { .eoi_level = eoi_level };

static void setup(void)
{
	fake_clock_init(&clk);
	vlapic_bus_init(&bus, &ops, &io);
	for (unsigned i = 0; i < 2; i++) {
		vlapic_init(&lapic[i], &bus, i, &clk.vc, pages[i]);
		vlapic_mmio_write(&lapic[i], APIC_REG_SVR, 4, 0x1ff);
	}
	vioapic_init(&io, &bus);
}

static uint32_t ioread(uint8_t reg)
{
	vioapic_mmio_write(&io, IOAPIC_REGSEL, 4, reg);
	return vioapic_mmio_read(&io, IOAPIC_WINDOW, 4);
}
static void iowrite(uint8_t reg, uint32_t v)
{
	vioapic_mmio_write(&io, IOAPIC_REGSEL, 4, reg);
	vioapic_mmio_write(&io, IOAPIC_WINDOW, 4, v);
}
static void set_rte(unsigned pin, uint64_t e)
{
	iowrite(IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(e >> 32));
	iowrite(IOAPIC_REG_REDIR + 2 * pin, (uint32_t)e);
}

static void test_registers(void **state)
{
	setup();
	assert_int_equal(ioread(IOAPIC_REG_VERSION), 0x00170011); /* 24 entries, version 0x11 */
	assert_int_equal(ioread(IOAPIC_REG_ID), VIOAPIC_ID << 24);
	iowrite(IOAPIC_REG_ID, 0x05000000);
	assert_int_equal(ioread(IOAPIC_REG_ID), 0x05000000);
	assert_int_equal(ioread(IOAPIC_REG_ARB), 0x05000000);
	iowrite(IOAPIC_REG_VERSION, 0); /* read-only */
	assert_int_equal(ioread(IOAPIC_REG_VERSION), 0x00170011);
	/* Every entry starts masked. */
	for (unsigned p = 0; p < VIOAPIC_PINS; p++)
		assert_int_equal(ioread(IOAPIC_REG_REDIR + 2 * p), IOAPIC_RTE_MASKED);
	assert_int_equal(vioapic_mmio_read(&io, IOAPIC_REGSEL, 4), IOAPIC_REG_REDIR + 2 * 23);
	/* Destination in the high word; busy and remote IRR are not writable. */
	assert_true(vioapic_pin_masked(&io, 4)); /* masked at reset */
	assert_true(vioapic_pin_masked(&io, 99));
	set_rte(4, (3ULL << 56) | IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_BUSY | 0x34);
	assert_false(vioapic_pin_masked(&io, 4));
	assert_int_equal(ioread(IOAPIC_REG_REDIR + 9), 0x03000000);
	assert_int_equal(ioread(IOAPIC_REG_REDIR + 8), 0x34);
	/* Beyond the 24 entries: reads 0, writes ignored. */
	iowrite(IOAPIC_REG_REDIR + 48, 0x55);
	assert_int_equal(ioread(IOAPIC_REG_REDIR + 48), 0);
	/* Other offsets of the page read 0. */
	assert_int_equal(vioapic_mmio_read(&io, 0x20, 4), 0);
}

static void test_edge_delivery(void **state)
{
	setup();
	/* Masked: nothing happens. */
	vioapic_set_irq(&io, 4, 1);
	vioapic_set_irq(&io, 4, 0);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), -1);
	/* Edge, physical destination APIC 1. */
	set_rte(4, (1ULL << 56) | 0x34);
	vioapic_set_irq(&io, 4, 1);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x34);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), -1);
	vioapic_set_irq(&io, 4, 1); /* no new edge */
	assert_int_equal(io.delivered[4], 1);
	assert_int_equal(vlapic_ack(&lapic[1]), 0x34);
	vlapic_mmio_write(&lapic[1], APIC_REG_EOI, 4, 0);
	vioapic_set_irq(&io, 4, 0);
	vioapic_set_irq(&io, 4, 1);
	assert_int_equal(io.delivered[4], 2);
	/* Logical destination: flat LDR bit 0 = APIC 0. */
	vlapic_mmio_write(&lapic[0], APIC_REG_LDR, 4, 0x01000000);
	set_rte(5, (1ULL << 56) | IOAPIC_RTE_DEST_LOGICAL | 0x35);
	vioapic_set_irq(&io, 5, 1);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x35);
	/* ExtINT entries are left to the 8259A path. */
	set_rte(0, (APIC_DM_EXTINT << 8));
	vioapic_set_irq(&io, 0, 1);
	assert_int_equal(io.delivered[0], 0);
}

static void test_level_remote_irr(void **state)
{
	setup();
	set_rte(9, IOAPIC_RTE_LEVEL | 0x49);
	vioapic_set_irq(&io, 9, 1);
	assert_true(ioread(IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(vlapic_ack(&lapic[0]), 0x49);
	/* Still asserted, but in service: no second message before the EOI. */
	vioapic_set_irq(&io, 9, 1);
	assert_int_equal(io.delivered[9], 1);
	/* EOI with the line still high: delivered again. */
	vlapic_mmio_write(&lapic[0], APIC_REG_EOI, 4, 0);
	assert_int_equal(io.delivered[9], 2);
	assert_int_equal(vlapic_ack(&lapic[0]), 0x49);
	vioapic_set_irq(&io, 9, 0);
	vlapic_mmio_write(&lapic[0], APIC_REG_EOI, 4, 0);
	assert_false(ioread(IOAPIC_REG_REDIR + 18) & IOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(io.delivered[9], 2);
	/* Unmasking an entry whose line is high delivers it. */
	vioapic_set_irq(&io, 10, 1);
	set_rte(10, IOAPIC_RTE_LEVEL | 0x4a);
	assert_int_equal(io.delivered[10], 1);
}

/* The vectors whose EOI must leave the CPU under virtual-interrupt delivery
 * (apicv.c's EOI-exit bitmap): every level-triggered entry, masked or not,
 * and no edge-triggered one. */
static void test_level_vectors(void **state)
{
	setup();
	set_rte(3, IOAPIC_RTE_LEVEL | 0x41);
	set_rte(4, IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | 0xc2);
	set_rte(5, 0x43);
	uint64_t bm[4] = { 1, 0, 0, 0 };
	vioapic_level_vectors(&io, bm);
	assert_int_equal(bm[0], 1);
	assert_int_equal(bm[1], 1ULL << 1);
	assert_int_equal(bm[2], 0);
	assert_int_equal(bm[3], 1ULL << 2);
}

static void test_isa_routing(void **state)
{
	setup();
	struct vpic pic;
	vpic_init(&pic);
	/* Program the 8259A master (vector base 0x08, all unmasked). */
	struct io_bus iob;
	iobus_init(&iob);
	vpic_register(&pic, &iob);
	iobus_write(&iob, 0x20, 1, 0x11);
	iobus_write(&iob, 0x21, 1, 0x08);
	iobus_write(&iob, 0x21, 1, 0x04);
	iobus_write(&iob, 0x21, 1, 0x01);
	iobus_write(&iob, 0x21, 1, 0x00);
	struct virq_router r = { .pic = &pic, .ioapic = &io };
	struct irq_line line = virq_line(&r);
	assert_int_equal(virq_isa_to_gsi(0), 2);
	assert_int_equal(virq_isa_to_gsi(4), 4);
	/* I/O APIC masked (reset): the PIC path alone delivers. */
	irq_line_pulse(&line, 0);
	assert_int_equal(vpic_pending_vector(&pic), 0x08);
	assert_int_equal(io.delivered[2], 0);
	/* The guest routes IRQ0 through the I/O APIC (input 2). */
	set_rte(2, 0x30);
	irq_line_pulse(&line, 0);
	assert_int_equal(io.delivered[2], 1);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x30);
	irq_line_pulse(&line, 1);
	assert_int_equal(io.delivered[1], 0); /* entry 1 still masked */
	irq_line_pulse(&line, 200);           /* out of range: ignored */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_edge_delivery),
		cmocka_unit_test(test_level_remote_irr),
		cmocka_unit_test(test_level_vectors),
		cmocka_unit_test(test_isa_routing),
	};
	return cmocka_run_group_tests_name("vioapic", tests, NULL, NULL);
}
