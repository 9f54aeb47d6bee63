/*
 * QEMU's pc-testdev, the test device of kvm-unit-tests' x86 platform
 * (bhyve implements it for the same reason). Off unless the guest's
 * configuration says testdev:on. What it offers:
 *
 *   ports 0xE0-0xE3  a 32-bit register: any access of 1, 2 or 4 bytes at
 *                    0xE0 + n reads or writes its bytes from n up (the
 *                    emulator tests' I/O round trips)
 *   (QEMU also shows the register byte-wise at 0xE8-0xEB; Keel does not:
 *   port 0xE9 is its debug port, which hvmloader and SeaBIOS print on,
 *   and kvm-unit-tests does not use that window)
 *   ports 0xE4-0xE7  "flush page": QEMU drops its own mapping of the guest
 *                    page written here so the next access is emulated;
 *                    Keel has nothing to drop, the write only counts
 *   ports 0x2000-0x2017  interrupt lines 0-23: a byte write sets line n
 *                    to (value != 0); lines 0-15 are ISA IRQs (8259A and
 *                    I/O APIC), 16-23 I/O APIC inputs only
 *   MMIO 0xFF000000-0xFF00FFFF  64 KiB that read back what was written
 *
 * A pure state machine like every device model: no VMX, no port I/O;
 * tests/unit/test_small_devices.c drives it.
 */
#ifndef KEEL_TESTDEV_H
#define KEEL_TESTDEV_H

#include <keel/iobus.h>
#include <keel/irq.h>
#include <keel/types.h>

#define TESTDEV_PORT_DATA 0xe0
#define TESTDEV_PORT_FLUSH 0xe4
#define TESTDEV_PORT_IRQ 0x2000
#define TESTDEV_IRQ_LINES 24
#define TESTDEV_MMIO_BASE 0xff000000ULL
#define TESTDEV_MMIO_SIZE 0x10000u

struct testdev {
	uint32_t data;
	uint8_t *mem; /* TESTDEV_MMIO_SIZE bytes, the owner's */
	struct irq_line irq;
	uint64_t flushes;
	uint8_t levels[TESTDEV_IRQ_LINES];
};

/* mem: TESTDEV_MMIO_SIZE bytes of the owner's, zeroed here. */
void testdev_init(struct testdev *t, struct irq_line irq, uint8_t *mem);
int testdev_register(struct testdev *t, struct io_bus *bus);
/* off + size <= TESTDEV_MMIO_SIZE, size 1-8 (the caller checks). */
uint64_t testdev_mmio_read(const struct testdev *t, uint32_t off, unsigned size);
void testdev_mmio_write(struct testdev *t, uint32_t off, unsigned size, uint64_t val);

#endif
