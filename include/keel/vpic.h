/* 8259A programmable interrupt controller pair (master 0x20/0x21, slave
 * 0xA0/0xA1 on master IRQ2) with the ELCR at 0x4D0/0x4D1. Pure model. */
#ifndef KEEL_VPIC_H
#define KEEL_VPIC_H

#include <keel/iobus.h>
#include <keel/irq.h>

struct vpic_chip {
	uint8_t irr, isr, imr;
	uint8_t line;         /* current input levels (edge detection) */
	uint8_t elcr, elcr_mask;
	uint8_t vector_base;
	uint8_t priority_add; /* lowest-priority IRQ is (priority_add - 1) */
	uint8_t init_step;    /* 0: ready; 1..3: expecting ICW2..ICW4 */
	bool icw4_needed, auto_eoi, rotate_on_aeoi, read_isr, poll, special_mask;
};

struct vpic {
	struct vpic_chip chip[2]; /* 0 master, 1 slave */
	uint64_t acks[16];
	uint64_t spurious;
};

void vpic_init(struct vpic *p);
int vpic_register(struct vpic *p, struct io_bus *bus);
void vpic_set_irq(struct vpic *p, unsigned irq, int level);
struct irq_line vpic_irq_line(struct vpic *p);
/* Vector of the interrupt the CPU would get now, or -1. */
int vpic_pending_vector(const struct vpic *p);
/* INTA cycle: returns the vector and moves the request into service. A
 * request that vanished reads as IRQ7 (or IRQ15) without ISR, as on the
 * real part ("spurious interrupt"). */
int vpic_ack(struct vpic *p);
/* Whether ISA line `irq` has a request waiting in its chip's IRR. */
bool vpic_irq_requested(const struct vpic *p, unsigned irq);

#endif
