/*
 * I/O APIC model (Intel 82093AA data sheet): IOREGSEL at offset 0x00 and
 * IOWIN at 0x10 select and access the ID, version, arbitration and 24
 * redirection entries. Only aligned 32-bit accesses to those two registers
 * are meaningful; other offsets read 0 and ignore writes.
 *
 * Polarity is stored but not applied: the device models signal "asserted"
 * (1) and "deasserted" (0), so an entry fires on assertion whatever the
 * guest chose (ISA interrupts are active high, as the MP table says).
 * ExtINT entries are not delivered: the 8259A reaches the BSP through its
 * LINT0 instead (hvm/dev/vlapic.c).
 */
#include <keel/string.h>
#include <keel/vioapic.h>

void vioapic_init(struct vioapic *io, struct vlapic_bus *bus)
{
	memset(io, 0, sizeof(*io));
	io->id = VIOAPIC_ID;
	io->bus = bus;
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
}

static void fire(struct vioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	struct vlapic_msg m = {
		.vector = e & 0xff,
		.delivery = (e >> IOAPIC_RTE_DELIVERY_SHIFT) & 7,
		.logical = e & IOAPIC_RTE_DEST_LOGICAL,
		.level = e & IOAPIC_RTE_LEVEL,
		.assert = true,
		.shorthand = APIC_SH_NONE,
		.dest = (uint8_t)(e >> IOAPIC_RTE_DEST_SHIFT),
	};
	if (m.delivery == APIC_DM_EXTINT || m.delivery == APIC_DM_INIT || m.delivery == APIC_DM_STARTUP)
		return;
	if (m.level)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR; /* until the EOI */
	io->delivered[pin]++;
	if (io->bus)
		vlapic_bus_deliver(io->bus, NULL, &m);
}

/* A level entry fires while its line is high and it is not in service. */
static void check_level(struct vioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	if ((e & IOAPIC_RTE_LEVEL) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) && (io->line & (1u << pin)))
		fire(io, pin);
}

void vioapic_set_irq(struct vioapic *io, unsigned gsi, int level)
{
	if (gsi >= VIOAPIC_PINS)
		return;
	uint32_t bit = 1u << gsi;
	bool rising = level && !(io->line & bit);
	if (level)
		io->line |= bit;
	else
		io->line &= ~bit;
	uint64_t e = io->rte[gsi];
	if (e & IOAPIC_RTE_MASKED)
		return;
	if (e & IOAPIC_RTE_LEVEL)
		check_level(io, gsi);
	else if (rising)
		fire(io, gsi);
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned i = 0; i < VIOAPIC_PINS; i++) {
		if ((io->rte[i] & 0xff) != vector || !(io->rte[i] & IOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[i] &= ~IOAPIC_RTE_REMOTE_IRR;
		check_level(io, i);
	}
}

void vioapic_level_vectors(const struct vioapic *io, uint64_t bitmap[4])
{
	for (unsigned i = 0; i < VIOAPIC_PINS; i++) {
		uint8_t vec = io->rte[i] & 0xff;
		if (io->rte[i] & IOAPIC_RTE_LEVEL)
			bitmap[vec / 64] |= 1ULL << (vec % 64);
	}
}

static uint32_t reg_read(const struct vioapic *io)
{
	unsigned r = io->regsel;
	if (r == IOAPIC_REG_ID || r == IOAPIC_REG_ARB)
		return (io->id & 0xf) << 24;
	if (r == IOAPIC_REG_VERSION)
		return ((VIOAPIC_PINS - 1) << 16) | VIOAPIC_VERSION;
	if (r >= IOAPIC_REG_REDIR && r < IOAPIC_REG_REDIR + 2 * VIOAPIC_PINS) {
		uint64_t e = io->rte[(r - IOAPIC_REG_REDIR) / 2];
		return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

/* Software writes vector, delivery mode, destination mode, polarity,
 * trigger, mask and destination; busy and remote IRR are the chip's. */
#define RTE_WRITABLE (0xffULL | (7ULL << 8) | IOAPIC_RTE_DEST_LOGICAL | IOAPIC_RTE_POLARITY_LOW | \
		      IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | (0xffULL << IOAPIC_RTE_DEST_SHIFT))

static void reg_write(struct vioapic *io, uint32_t val)
{
	unsigned r = io->regsel;
	if (r == IOAPIC_REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (r < IOAPIC_REG_REDIR || r >= IOAPIC_REG_REDIR + 2 * VIOAPIC_PINS)
		return; /* version and arbitration are read-only */
	unsigned pin = (r - IOAPIC_REG_REDIR) / 2;
	uint64_t e = io->rte[pin];
	uint64_t nv = (r & 1) ? (e & 0xffffffffULL) | ((uint64_t)val << 32) : (e & ~0xffffffffULL) | val;
	nv = (nv & RTE_WRITABLE) | (e & IOAPIC_RTE_REMOTE_IRR);
	if (!(nv & IOAPIC_RTE_LEVEL))
		nv &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = nv;
	/* Unmasking a level entry whose line is high delivers it now. */
	check_level(io, pin);
}

uint32_t vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned size)
{
	offset &= VIOAPIC_MMIO_SIZE - 1;
	if (offset == IOAPIC_REGSEL)
		return io->regsel;
	if (offset == IOAPIC_WINDOW)
		return reg_read(io);
	return 0;
}

void vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned size, uint32_t val)
{
	offset &= VIOAPIC_MMIO_SIZE - 1;
	if (offset == IOAPIC_REGSEL)
		io->regsel = (uint8_t)val;
	else if (offset == IOAPIC_WINDOW && size >= 4)
		reg_write(io, val);
}

bool vioapic_pin_masked(const struct vioapic *io, unsigned gsi)
{
	return gsi >= VIOAPIC_PINS || (io->rte[gsi] & IOAPIC_RTE_MASKED);
}
