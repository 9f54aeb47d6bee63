/* 8254 PIT model (Intel 8254 data sheet), counts derived from the clock. */
#include <keel/string.h>
#include <keel/vpit.h>

/* 64-bit arithmetic only (divisions by constants become multiplications):
 * these run on every VM exit. Exact for any time a guest can live. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / 1000000000u * VPIT_HZ + ns % 1000000000u * VPIT_HZ / 1000000000u;
}
static uint64_t ticks_to_ns(uint64_t t)
{
	return t / VPIT_HZ * 1000000000u + (t % VPIT_HZ * 1000000000u + VPIT_HZ - 1) / VPIT_HZ;
}

/* PIT ticks channel c has counted by time now (ns, from the clock: an
 * access reads it once, however many channels it looks at). */
static uint64_t elapsed(const struct vpit_channel *c, uint64_t now)
{
	if (!c->armed)
		return 0;
	if (!c->gate)
		return c->frozen_ticks;
	return now > c->start_ns ? ns_to_ticks(now - c->start_ns) : 0;
}

static uint16_t count_now(const struct vpit_channel *c, uint64_t now)
{
	uint64_t e = elapsed(c, now);
	uint32_t n = c->reload;
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - e % n);
	case 3: {
		/* Square wave: the counter steps by two through each half. */
		uint64_t half = (n + 1) / 2, ph = e % n;
		uint64_t in_half = ph < half ? ph : ph - half;
		return (uint16_t)(n - (2 * in_half) % n);
	}
	default: /* 0, 1, 4, 5: counts down once, then wraps through 0xFFFF */
		return (uint16_t)(n - e);
	}
}

static bool out_now(const struct vpit_channel *c, uint64_t now)
{
	if (!c->armed)
		return c->mode != 0; /* mode 0 drives OUT low once programmed */
	uint64_t e = elapsed(c, now);
	uint32_t n = c->reload;
	switch (c->mode) {
	case 0:
	case 1:
		return e >= n;
	case 2:
		return e % n != n - 1;
	case 3:
		return e % n < (n + 1) / 2;
	default: /* 4, 5: a one-tick low pulse at terminal count */
		return e != n;
	}
}

void vpit_init(struct vpit *t, const struct vclock *clk, struct irq_line irq0)
{
	memset(t, 0, sizeof(*t));
	t->clock = clk;
	t->irq = irq0;
	for (int i = 0; i < 3; i++) {
		t->ch[i].reload = 65536;
		t->ch[i].gate = i != 2; /* channel 2's gate is port 0x61 bit 0 */
		t->ch[i].rw = 3;
	}
}

static void start(struct vpit *t, struct vpit_channel *c)
{
	c->armed = true;
	c->null_count = false;
	c->start_ns = vclock_now(t->clock);
	c->frozen_ticks = 0;
	if (c == &t->ch[0]) {
		t->irq_periods = 0;
		t->oneshot_fired = false;
	}
}

static void load_count(struct vpit *t, struct vpit_channel *c, uint16_t v)
{
	c->reload = v ? v : 65536;
	start(t, c);
}

static void write_data(struct vpit *t, int i, uint8_t v)
{
	struct vpit_channel *c = &t->ch[i];
	switch (c->rw) {
	case 1:
		load_count(t, c, v);
		break;
	case 2:
		load_count(t, c, (uint16_t)(v << 8));
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			c->null_count = true;
		} else {
			c->write_msb_next = false;
			load_count(t, c, (uint16_t)(c->write_lsb | (v << 8)));
		}
	}
}

static uint8_t read_data(struct vpit *t, int i)
{
	struct vpit_channel *c = &t->ch[i];
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v = c->latched ? c->latch : count_now(c, vclock_now(t->clock));
	uint8_t r;
	switch (c->rw) {
	case 1:
		r = v & 0xff;
		c->latched = false;
		break;
	case 2:
		r = v >> 8;
		c->latched = false;
		break;
	default:
		if (c->latched) {
			r = c->latch_msb_next ? v >> 8 : v & 0xff;
			if (c->latch_msb_next)
				c->latched = false;
			c->latch_msb_next = !c->latch_msb_next;
		} else {
			r = c->read_msb_next ? v >> 8 : v & 0xff;
			c->read_msb_next = !c->read_msb_next;
		}
	}
	return r;
}

static void latch_count(struct vpit *t, struct vpit_channel *c)
{
	if (c->latched)
		return; /* a second latch before the read is ignored */
	c->latched = true;
	c->latch = count_now(c, vclock_now(t->clock));
	c->latch_msb_next = false;
}

static void control_word(struct vpit *t, uint8_t v)
{
	unsigned sel = v >> 6;
	if (sel == 3) { /* read-back: bit5 = !count, bit4 = !status, bits 1-3 channels */
		for (int i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			struct vpit_channel *c = &t->ch[i];
			if (!(v & 0x20))
				latch_count(t, c);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = (uint8_t)((out_now(c, vclock_now(t->clock)) << 7) | (c->null_count << 6) | (c->rw << 4) |
						      (c->mode << 1) | c->bcd);
				c->status_latched = true;
			}
		}
		return;
	}
	struct vpit_channel *c = &t->ch[sel];
	if ((v & 0x30) == 0) {
		latch_count(t, c);
		return;
	}
	c->rw = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6 and 7 alias modes 2 and 3 */
	c->bcd = v & 1;
	c->armed = false; /* counting waits for the new count */
	c->null_count = true;
	c->write_msb_next = c->read_msb_next = false;
	c->latched = c->status_latched = false;
	if (sel == 0) {
		t->irq_periods = 0;
		t->oneshot_fired = true; /* nothing until a count is written */
	}
}

static void set_gate2(struct vpit *t, bool gate)
{
	struct vpit_channel *c = &t->ch[2];
	if (gate == c->gate)
		return;
	if (!gate) {
		c->frozen_ticks = elapsed(c, vclock_now(t->clock));
		c->gate = false;
		return;
	}
	c->gate = true;
	if (!c->armed)
		return;
	uint64_t now = vclock_now(t->clock);
	if (c->mode == 1 || c->mode == 2 || c->mode == 3 || c->mode == 5)
		c->start_ns = now; /* a rising gate retriggers these modes */
	else
		c->start_ns = now - ticks_to_ns(c->frozen_ticks); /* 0 and 4 resume */
}

/* Port 0x61 has a range of its own, so its reads (firmware's delay loops
 * poll it) come straight here. Bit 4 toggles with the DRAM refresh (every
 * ~15 us); firmware uses it as a delay source. Bit 5 is OUT2. */
static uint32_t port61_read(void *dev, uint16_t port, unsigned size)
{
	struct vpit *t = dev;
	uint64_t now = vclock_now(t->clock);
	return t->port61 | (((now / 15085) & 1) << 4) | (out_now(&t->ch[2], now) << 5);
}

static uint32_t pit_read(void *dev, uint16_t port, unsigned size)
{
	struct vpit *t = dev;
	if (port == 0x61)
		return port61_read(dev, port, size);
	if (port == 0x43)
		return 0xff; /* the control register is write-only */
	return read_data(t, port - 0x40);
}

static void pit_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct vpit *t = dev;
	if (port == 0x61) {
		t->port61 = val & 3;
		set_gate2(t, val & 1);
	} else if (port == 0x43) {
		control_word(t, (uint8_t)val);
	} else {
		write_data(t, port - 0x40, (uint8_t)val);
	}
}

int vpit_register(struct vpit *t, struct io_bus *bus)
{
	/* Reads of the counters and of port 0x61 are computed from the time
	 * and change nothing (firmware polls them in tight loops); writes
	 * program the channels and channel 2's gate. */
	struct io_range r = { .base = 0x40, .count = 4, .retimes = IO_RETIMES_WRITE, .name = "pit", .dev = t,
			      .read = pit_read, .write = pit_write };
	struct io_range p61 = { .base = 0x61, .count = 1, .retimes = IO_RETIMES_WRITE, .name = "port 0x61", .dev = t,
				.read = port61_read, .write = pit_write };
	return (iobus_register(bus, &r) || iobus_register(bus, &p61)) ? -1 : 0;
}

static uint64_t irq_period(const struct vpit *t)
{
	uint32_t n = t->ch[0].reload;
	return n < VPIT_MIN_PERIOD_TICKS ? VPIT_MIN_PERIOD_TICKS : n;
}

static bool periodic(const struct vpit_channel *c) { return c->mode == 2 || c->mode == 3; }

void vpit_update(struct vpit *t)
{
	struct vpit_channel *c = &t->ch[0];
	if (!c->armed)
		return;
	uint64_t e = elapsed(c, vclock_now(t->clock));
	if (periodic(c)) {
		uint64_t periods = e / irq_period(t);
		if (periods > t->irq_periods) {
			t->ticks_coalesced += periods - t->irq_periods - 1;
			t->irq_periods = periods;
			t->irqs++;
			irq_line_pulse(&t->irq, 0);
		}
	} else if (!t->oneshot_fired && e >= c->reload) {
		t->oneshot_fired = true;
		t->irqs++;
		irq_line_pulse(&t->irq, 0);
	}
}

uint64_t vpit_next_deadline_ns(const struct vpit *t)
{
	const struct vpit_channel *c = &t->ch[0];
	if (!c->armed)
		return NO_DEADLINE;
	if (periodic(c))
		return c->start_ns + ticks_to_ns((t->irq_periods + 1) * irq_period(t));
	if (t->oneshot_fired)
		return NO_DEADLINE;
	return c->start_ns + ticks_to_ns(c->reload);
}
