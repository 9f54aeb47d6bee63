/* ISA IRQ routing to the 8259A pair and the I/O APIC (include/keel/virq.h). */
#include <keel/virq.h>

unsigned virq_isa_to_gsi(unsigned irq) { return irq == 0 ? 2 : irq; }

static void route(void *ctx, unsigned irq, int level)
{
	struct virq_router *r = ctx;
	if (r->moved)
		*r->moved = true;
	if (r->pic && irq < 16)
		vpic_set_irq(r->pic, irq, level);
	if (r->ioapic && irq < 16)
		vioapic_set_irq(r->ioapic, virq_isa_to_gsi(irq), level);
	else if (r->ioapic && irq < VIOAPIC_PINS)
		vioapic_set_irq(r->ioapic, irq, level); /* 16-23: I/O APIC inputs only */
}

struct irq_line virq_line(struct virq_router *r) { return (struct irq_line){ route, r }; }
