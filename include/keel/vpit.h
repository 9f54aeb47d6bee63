/* 8254 programmable interval timer (0x40-0x43) and port 0x61 (channel-2
 * gate, speaker, OUT2). Counts come from the virtual clock, never from
 * ticking, so a descheduled guest sees correct counts when it runs again. */
#ifndef KEEL_VPIT_H
#define KEEL_VPIT_H

#include <keel/iobus.h>
#include <keel/irq.h>
#include <keel/vclock.h>

#define VPIT_HZ 1193182ULL
/* IRQ0 never fires faster than this, whatever the guest programs: a count
 * of 1 would otherwise ask for 1.2 million interrupts a second. */
#define VPIT_MIN_PERIOD_TICKS 120 /* ~100 us */

struct vpit_channel {
	uint32_t reload;      /* 1..65536 */
	uint8_t mode, rw, bcd;
	bool gate;
	bool armed;           /* a count has been written since the mode was set */
	uint64_t start_ns;    /* when counting started */
	uint64_t frozen_ticks; /* elapsed ticks while the gate is low */
	bool write_msb_next, read_msb_next;
	uint8_t write_lsb;
	bool latched;
	uint16_t latch;
	bool latch_msb_next;
	bool status_latched;
	uint8_t status;
	bool null_count;
};

struct vpit {
	struct vpit_channel ch[3];
	const struct vclock *clock;
	struct irq_line irq;
	uint64_t irq_periods; /* channel-0 periods already signalled */
	bool oneshot_fired;
	uint8_t port61;       /* bits 0-1 as written */
	uint64_t irqs, ticks_coalesced;
};

void vpit_init(struct vpit *t, const struct vclock *clk, struct irq_line irq0);
int vpit_register(struct vpit *t, struct io_bus *bus);
/* Raises IRQ0 if a channel-0 period ended since the last call (at most once
 * per call; missed periods are counted in ticks_coalesced). */
void vpit_update(struct vpit *t);
/* Absolute ns of the next IRQ0 edge, or NO_DEADLINE. */
uint64_t vpit_next_deadline_ns(const struct vpit *t);

#endif
