/*
 * 8259A model (Intel 8259A data sheet). Fully nested mode with rotation,
 * special mask, poll, auto-EOI; edge or level per IRQ through the ELCR
 * (PIIX-style, IRQ 0, 1, 2, 8 and 13 are always edge).
 */
#include <keel/string.h>
#include <keel/vpic.h>

static int priority(const struct vpic_chip *c, uint8_t mask)
{
	if (!mask)
		return 8;
	for (int p = 0; p < 8; p++)
		if (mask & (1u << ((p + c->priority_add) & 7)))
			return p;
	return 8;
}

/* IRQ (0-7) this chip would present now, or -1. */
static int chip_pending(const struct vpic_chip *c, bool is_master)
{
	int p = priority(c, c->irr & ~c->imr);
	if (p == 8)
		return -1;
	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;
	/* Special fully nested mode is not modelled: on the master an IRQ2
	 * in service blocks further slave requests, as in normal nesting. */
	(void)is_master;
	int cur = priority(c, in_service);
	return p < cur ? (p + c->priority_add) & 7 : -1;
}

/* The slave's INT output drives the master's IRQ2 input (level). */
static void cascade_update(struct vpic *p)
{
	if (chip_pending(&p->chip[1], false) >= 0)
		p->chip[0].irr |= 1u << 2;
	else
		p->chip[0].irr &= ~(1u << 2);
}

static void chip_reset(struct vpic_chip *c)
{
	uint8_t elcr = c->elcr, mask = c->elcr_mask;
	memset(c, 0, sizeof(*c));
	c->elcr = elcr;
	c->elcr_mask = mask;
}

void vpic_init(struct vpic *p)
{
	memset(p, 0, sizeof(*p));
	p->chip[0].elcr_mask = 0xf8; /* IRQ 0, 1, 2 edge only */
	p->chip[1].elcr_mask = 0xde; /* IRQ 8, 13 edge only */
}

void vpic_set_irq(struct vpic *p, unsigned irq, int level)
{
	if (irq > 15)
		return;
	struct vpic_chip *c = &p->chip[irq >> 3];
	uint8_t bit = 1u << (irq & 7);
	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->line & bit)) {
		c->irr |= bit; /* rising edge latches the request */
	}
	if (level)
		c->line |= bit;
	else
		c->line &= ~bit;
	cascade_update(p);
}

static void line_set(void *ctx, unsigned irq, int level) { vpic_set_irq(ctx, irq, level); }

struct irq_line vpic_irq_line(struct vpic *p) { return (struct irq_line){ line_set, p }; }

int vpic_pending_vector(const struct vpic *p)
{
	int irq = chip_pending(&p->chip[0], true);
	if (irq < 0)
		return -1;
	if (irq == 2) {
		int s = chip_pending(&p->chip[1], false);
		return p->chip[1].vector_base + (s < 0 ? 7 : s);
	}
	return p->chip[0].vector_base + irq;
}

/* Moves irq from IRR to ISR on one chip (the INTA pulses). */
static void chip_ack(struct vpic_chip *c, int irq)
{
	uint8_t bit = 1u << irq;
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->priority_add = (irq + 1) & 7;
	} else {
		c->isr |= bit;
	}
	/* An edge request is consumed; a level one stays while the line is high. */
	if (!(c->elcr & bit))
		c->irr &= ~bit;
}

int vpic_ack(struct vpic *p)
{
	int irq = chip_pending(&p->chip[0], true);
	int vec;
	if (irq < 0) {
		p->spurious++;
		return p->chip[0].vector_base + 7;
	}
	if (irq == 2) {
		int s = chip_pending(&p->chip[1], false);
		chip_ack(&p->chip[0], 2);
		if (s < 0) {
			p->spurious++;
			vec = p->chip[1].vector_base + 7;
		} else {
			chip_ack(&p->chip[1], s);
			p->acks[8 + s]++;
			vec = p->chip[1].vector_base + s;
		}
	} else {
		chip_ack(&p->chip[0], irq);
		p->acks[irq]++;
		vec = p->chip[0].vector_base + irq;
	}
	cascade_update(p);
	return vec;
}

static void eoi(struct vpic_chip *c, int irq, bool rotate)
{
	if (irq < 0) {
		/* Non-specific EOI: the highest-priority IRQ in service. */
		int pr = priority(c, c->isr);
		if (pr == 8)
			return;
		irq = (pr + c->priority_add) & 7;
	}
	c->isr &= ~(1u << irq);
	if (rotate)
		c->priority_add = (irq + 1) & 7;
}

static void chip_write(struct vpic *p, struct vpic_chip *c, bool odd, uint8_t v)
{
	if (!odd) {
		if (v & 0x10) { /* ICW1 */
			chip_reset(c);
			c->init_step = 1;
			c->icw4_needed = v & 1;
		} else if (v & 0x08) { /* OCW3 */
			if (v & 0x04)
				c->poll = true;
			if (v & 0x02)
				c->read_isr = v & 1;
			if (v & 0x40)
				c->special_mask = (v >> 5) & 1;
		} else { /* OCW2 */
			switch (v >> 5) {
			case 0:
				c->rotate_on_aeoi = false;
				break;
			case 4:
				c->rotate_on_aeoi = true;
				break;
			case 1:
				eoi(c, -1, false);
				break;
			case 5:
				eoi(c, -1, true);
				break;
			case 3:
				eoi(c, v & 7, false);
				break;
			case 7:
				eoi(c, v & 7, true);
				break;
			case 6:
				c->priority_add = (v + 1) & 7;
				break;
			default:
				break;
			}
		}
	} else {
		switch (c->init_step) {
		case 0:
			c->imr = v; /* OCW1 */
			break;
		case 1:
			c->vector_base = v & 0xf8;
			c->init_step = 2;
			break;
		case 2: /* ICW3: cascade wiring is fixed (slave on IRQ2) */
			c->init_step = c->icw4_needed ? 3 : 0;
			break;
		case 3:
			c->auto_eoi = v & 2;
			c->init_step = 0;
			break;
		}
	}
	cascade_update(p);
}

static uint8_t chip_read(struct vpic *p, struct vpic_chip *c, bool odd, bool master)
{
	if (odd)
		return c->imr;
	if (c->poll) {
		/* Poll command: the read is the INTA; bit 7 = request present. */
		c->poll = false;
		int irq = chip_pending(c, master);
		if (irq < 0)
			return 0;
		chip_ack(c, irq);
		cascade_update(p);
		return 0x80 | irq;
	}
	return c->read_isr ? c->isr : c->irr;
}

static uint32_t pic_read(void *dev, uint16_t port, unsigned size)
{
	struct vpic *p = dev;
	bool slave = port >= 0xa0;
	return chip_read(p, &p->chip[slave], port & 1, !slave);
}

static void pic_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpic *p = dev;
	chip_write(p, &p->chip[port >= 0xa0], port & 1, (uint8_t)val);
}

static uint32_t elcr_read(void *dev, uint16_t port, unsigned size)
{
	struct vpic *p = dev;
	uint32_t v = p->chip[port & 1].elcr;
	if (size >= 2 && !(port & 1))
		v |= (uint32_t)p->chip[1].elcr << 8;
	return v;
}

static void elcr_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpic *p = dev;
	unsigned first = port & 1;
	for (unsigned i = 0; i < size && first + i < 2; i++) {
		struct vpic_chip *c = &p->chip[first + i];
		c->elcr = (uint8_t)(val >> (8 * i)) & c->elcr_mask;
	}
}

int vpic_register(struct vpic *p, struct io_bus *bus)
{
	/* Every access can change what the pair delivers (EOI, masks,
	 * trigger modes, poll-mode acknowledge). */
	uint8_t any = IO_RETIMES_READ | IO_RETIMES_WRITE;
	struct io_range m = { .base = 0x20, .count = 2, .retimes = any, .name = "pic master", .dev = p,
			      .read = pic_read, .write = pic_write };
	struct io_range s = { .base = 0xa0, .count = 2, .retimes = any, .name = "pic slave", .dev = p,
			      .read = pic_read, .write = pic_write };
	struct io_range e = { .base = 0x4d0, .count = 2, .retimes = IO_RETIMES_WRITE, .name = "elcr", .dev = p,
			      .read = elcr_read, .write = elcr_write };
	return (iobus_register(bus, &m) || iobus_register(bus, &s) || iobus_register(bus, &e)) ? -1 : 0;
}

bool vpic_irq_requested(const struct vpic *p, unsigned irq)
{
	return irq < 16 && (p->chip[irq >> 3].irr >> (irq & 7)) & 1;
}
