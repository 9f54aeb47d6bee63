/*
 * I/O APIC (82093AA-style, 24 pins) at guest-physical 0xFEC00000. Pure model
 * (hvm/dev/vioapic.c): pins are driven like the 8259A's inputs, and unmasked
 * redirection entries send messages on the guest's APIC bus. At reset every
 * entry is masked, so until a guest programs it only the 8259A path (the
 * BSP's LINT0) delivers ISA interrupts.
 */
#ifndef KEEL_VIOAPIC_H
#define KEEL_VIOAPIC_H

#include <keel/types.h>
#include <keel/vlapic.h>

#define VIOAPIC_BASE 0xfec00000ULL
#define VIOAPIC_MMIO_SIZE 0x1000u
#define VIOAPIC_PINS 24
#define VIOAPIC_VERSION 0x11 /* 82093AA */
#define VIOAPIC_ID 8 /* after the local APIC ids 0-7: unique on the APIC bus */

/* MMIO registers (offsets in the page). */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
/* Indirect registers (through IOREGSEL/IOWIN). */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDIR 0x10 /* entry n: low 0x10+2n, high 0x11+2n */

/* Redirection entry fields. */
#define IOAPIC_RTE_DELIVERY_SHIFT 8
#define IOAPIC_RTE_DEST_LOGICAL (1ULL << 11)
#define IOAPIC_RTE_BUSY (1ULL << 12)
#define IOAPIC_RTE_POLARITY_LOW (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

struct vioapic {
	uint32_t id;
	uint8_t regsel;
	uint64_t rte[VIOAPIC_PINS];
	uint32_t line; /* current input levels, one bit per pin */
	struct vlapic_bus *bus;
	uint64_t delivered[VIOAPIC_PINS];
};

void vioapic_init(struct vioapic *io, struct vlapic_bus *bus);
/* Drives pin `gsi`: level 1 asserted, 0 deasserted (edge entries fire on
 * the rising edge, level entries while asserted and not in service). */
void vioapic_set_irq(struct vioapic *io, unsigned gsi, int level);
/* A local APIC's EOI of a level-triggered vector: clears remote IRR of the
 * entries with that vector and fires again those still asserted. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);
/* Sets in bitmap[4] (256 bits) the vector of every level-triggered
 * redirection entry: those whose EOI the I/O APIC must hear of. */
void vioapic_level_vectors(const struct vioapic *io, uint64_t bitmap[4]);
/* Whether input `gsi`'s redirection entry is masked. */
bool vioapic_pin_masked(const struct vioapic *io, unsigned gsi);
uint32_t vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned size);
void vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned size, uint32_t val);

#endif
