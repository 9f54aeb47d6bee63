/*
 * An interrupt line from a device model to the guest's interrupt controller.
 * Level semantics: set(ctx, irq, 1) raises, set(ctx, irq, 0) lowers. An
 * edge-triggered source pulses (1 then 0). The 8259 model implements it.
 */
#ifndef KEEL_IRQ_H
#define KEEL_IRQ_H

struct irq_line {
	void (*set)(void *ctx, unsigned irq, int level);
	void *ctx;
};

static inline void irq_line_set(const struct irq_line *l, unsigned irq, int level)
{
	if (l && l->set)
		l->set(l->ctx, irq, level);
}

static inline void irq_line_pulse(const struct irq_line *l, unsigned irq)
{
	irq_line_set(l, irq, 1);
	irq_line_set(l, irq, 0);
}

#endif
