/*
 * ISA interrupt routing of one guest: every ISA IRQ goes to the 8259A pair
 * and to the I/O APIC, as on a PC chipset. ISA IRQ 0 (the PIT) is on I/O APIC
 * input 2, the others on the input of their own number: the tables
 * hvmloader builds (MP table, MADT interrupt source override) say the same.
 * Which path reaches a CPU is the guest's choice: the I/O APIC's entries
 * start masked, and the 8259A reaches the BSP through LINT0. Lines 16-23
 * (the test device's, hvm/dev/testdev.c) are I/O APIC inputs 16-23 only, as a
 * PC's PCI interrupt lines are.
 */
#ifndef KEEL_VIRQ_H
#define KEEL_VIRQ_H

#include <keel/irq.h>
#include <keel/vioapic.h>
#include <keel/vpic.h>

struct virq_router {
	struct vpic *pic;
	struct vioapic *ioapic;
	/* Set on every call of a line's set() (the guest's devices_dirty):
	 * device models call it only when a line changes (or to pulse it),
	 * and an interrupt that became pending or went away must be looked
	 * at before the vCPU runs again, not at the next deadline. NULL: no
	 * one to tell. */
	bool *moved;
};

/* I/O APIC input of an ISA IRQ. */
unsigned virq_isa_to_gsi(unsigned irq);
struct irq_line virq_line(struct virq_router *r);

#endif
