/* MC146818 RTC and CMOS RAM (ports 0x70/0x71). Pure model. */
#ifndef KEEL_VRTC_H
#define KEEL_VRTC_H

/* CMOS bytes from here up are battery-backed RAM, kept across a reset. */
#define VRTC_NVRAM_FIRST 0x0e

#include <keel/iobus.h>
#include <keel/irq.h>
#include <keel/vclock.h>

struct vrtc_time {
	unsigned year, month, day, hour, min, sec, wday; /* wday 1 = Sunday */
};

/* CMOS bytes from here on are NVRAM (after the clock and registers A-D). */
#define VRTC_NVRAM_FIRST 0x0e

struct vrtc {
	uint8_t cmos[128];
	uint8_t index;
	bool nmi_masked;
	const struct vclock *clock;
	struct irq_line irq;
	int64_t base_secs;  /* seconds since 1970 at base_ns */
	uint64_t base_ns;
	uint64_t next_periodic_ns;
	int64_t last_update_sec;
	uint8_t flags;      /* pending PF/AF/UF (register C bits 6-4) */
	uint64_t irqs;
	uint64_t alarms; /* alarm matches, with AIE or not (ACPI's RTC wake: hvm/dev/vpm.c) */
};

/* base: the date and time at clock time 0. */
void vrtc_init(struct vrtc *r, const struct vclock *clk, struct irq_line irq8, const struct vrtc_time *base);
int vrtc_register(struct vrtc *r, struct io_bus *bus);
/* CMOS memory-size fields consistent with the guest's E820. */
void vrtc_set_memory(struct vrtc *r, uint64_t ram_below_4g, uint64_t ram_above_4g);
void vrtc_update(struct vrtc *r);
uint64_t vrtc_next_deadline_ns(const struct vrtc *r);
uint8_t vrtc_cmos_peek(struct vrtc *r, unsigned idx);
bool vrtc_nmi_masked(const struct vrtc *r);

#endif
