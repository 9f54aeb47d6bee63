/*
 * ACPI PM1a event/control registers and the PM timer (include/keel/vpm.h).
 * Registers are read and written a byte at a time, so any access width at
 * any offset behaves as the 16- and 32-bit registers would: status bits
 * are cleared by writing 1, SLP_EN reads as 0, the timer ignores writes.
 */
#include <keel/vpm.h>

/* Only these status bits can raise the SCI (the others are Keel's to set
 * only for wake, or never set). */
#define SCI_EVENTS (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC)
#define EN_BITS SCI_EVENTS
#define CNT_WRITABLE (PM1_CNT_SCI_EN | PM1_CNT_SLP_TYP | (1u << 1) | (1u << 2))

void vpm_init(struct vpm *pm, const struct vclock *clk, struct irq_line irq, const struct guest_events *events)
{
	*pm = (struct vpm){ .clock = clk, .irq = irq, .events = events };
	/* No SMI handler to hand over from: the platform is in ACPI mode from
	 * reset (the FADT's SMI_CMD is 0), so SCI_EN reads as 1. */
	pm->cnt = PM1_CNT_SCI_EN;
}

static void update_sci(struct vpm *pm)
{
	bool level = (pm->cnt & PM1_CNT_SCI_EN) && (pm->sts & pm->en & SCI_EVENTS);
	irq_line_set(&pm->irq, VPM_SCI_IRQ, level);
}

static uint32_t timer_now(const struct vpm *pm)
{
	/* 3.579545 MHz from the guest's clock; 24 bits (the FADT leaves
	 * TMR_VAL_EXT clear). ns * 3579545 / 1e9 in two steps to stay in
	 * 64 bits for 160 years of uptime. */
	uint64_t ns = vclock_now(pm->clock);
	uint64_t ticks = (ns / 1000000000ULL) * VPM_TIMER_HZ + (ns % 1000000000ULL) * VPM_TIMER_HZ / 1000000000ULL;
	return (uint32_t)ticks & 0xffffff;
}

static uint8_t read_byte(struct vpm *pm, unsigned off)
{
	switch (off) {
	case 0: case 1: return (uint8_t)(pm->sts >> (8 * off));
	case 2: case 3: return (uint8_t)(pm->en >> (8 * (off - 2)));
	case 4: case 5: return (uint8_t)((pm->cnt & ~PM1_CNT_SLP_EN) >> (8 * (off - 4)));
	case 8: case 9: case 10: case 11: return (uint8_t)(timer_now(pm) >> (8 * (off - 8)));
	default: return 0; /* 6-7: no PM1a control's second word */
	}
}

uint32_t vpm_read(struct vpm *pm, uint16_t port, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && i < 4; i++) {
		unsigned off = (unsigned)(port - VPM_PORT_BASE) + i;
		v |= (uint32_t)(off < VPM_PORTS ? read_byte(pm, off) : 0xff) << (8 * i);
	}
	return v;
}

static void sleep_requested(struct vpm *pm)
{
	unsigned typ = (pm->cnt & PM1_CNT_SLP_TYP) >> PM1_CNT_SLP_TYP_SHIFT;
	pm->sleeps++;
	if (typ == VPM_SLP_TYP_S3) {
		/* Wake status is for the OS to read after the resume. */
		pm->sts &= (uint16_t)~PM1_STS_WAK;
		pm->suspended = true;
		update_sci(pm);
		guest_events_suspend(pm->events);
		return;
	}
	/* S5, and S4 (the OS has saved its image: for a virtual machine,
	 * off too); an undefined SLP_TYP is taken as off as well. */
	guest_events_exit(pm->events, 0,
			  typ == VPM_SLP_TYP_S4 ? "ACPI sleep state S4, powered off" : "ACPI power-off, S5");
}

static void write_byte(struct vpm *pm, unsigned off, uint8_t b)
{
	switch (off) {
	case 0: case 1: pm->sts &= (uint16_t)~((unsigned)b << (8 * off)); break; /* write 1 to clear */
	case 2: case 3: {
		unsigned shift = 8 * (off - 2);
		pm->en = (uint16_t)((pm->en & ~(0xffu << shift)) | (((unsigned)b << shift) & EN_BITS));
		break;
	}
	case 4: case 5: {
		unsigned shift = 8 * (off - 4);
		uint16_t v = (uint16_t)((pm->cnt & ~(0xffu << shift)) | ((unsigned)b << shift));
		pm->cnt = (uint16_t)(v & CNT_WRITABLE);
		/* SLP_EN is in the high byte, with SLP_TYP: a 16-bit write
		 * has set the type by the time it is seen. */
		if (off == 5 && (b & (PM1_CNT_SLP_EN >> 8)))
			sleep_requested(pm);
		break;
	}
	default: break; /* the timer is read-only */
	}
}

void vpm_write(struct vpm *pm, uint16_t port, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size && i < 4; i++) {
		unsigned off = (unsigned)(port - VPM_PORT_BASE) + i;
		if (off < VPM_PORTS)
			write_byte(pm, off, (uint8_t)(val >> (8 * i)));
	}
	update_sci(pm);
}

void vpm_rtc_alarm(struct vpm *pm)
{
	pm->sts |= PM1_RTC;
	if (pm->suspended && (pm->en & PM1_RTC)) {
		pm->suspended = false;
		pm->sts |= PM1_STS_WAK;
		pm->wakes++;
		guest_events_wake(pm->events);
	}
	update_sci(pm);
}

bool vpm_wake_armed(const struct vpm *pm) { return pm->suspended && (pm->en & PM1_RTC); }

void vpm_resumed(struct vpm *pm) { pm->cnt |= PM1_CNT_SCI_EN; }

static uint32_t io_read(void *dev, uint16_t port, unsigned size) { return vpm_read(dev, port, size); }
static void io_write(void *dev, uint16_t port, unsigned size, uint32_t val) { vpm_write(dev, port, size, val); }

int vpm_register(struct vpm *pm, struct io_bus *bus)
{
	struct io_range r = { .base = VPM_PORT_BASE, .count = VPM_PORTS, .name = "acpi pm", .dev = pm,
			      .read = io_read, .write = io_write };
	return iobus_register(bus, &r);
}
