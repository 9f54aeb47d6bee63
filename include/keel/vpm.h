/*
 * ACPI fixed-hardware power management (ACPI 6.5 section 4.8): the PM1a
 * event block (PM1_STS, PM1_EN), the PM1a control block (PM1_CNT) and the
 * 24-bit PM timer, at the ports the guest's FADT names (loader/acpi.c).
 * What a guest does with them: power itself off (S5) or suspend to RAM
 * (S3) by writing SLP_TYP and SLP_EN, and wake from S3 on an RTC alarm it
 * enabled (RTC_EN). The model only asks (guest_events); Keel's guest
 * lifecycle stops, suspends or resumes the guest. The SCI (IRQ 9) is
 * raised while an enabled status bit is set and SCI_EN is on.
 */
#ifndef KEEL_VPM_H
#define KEEL_VPM_H

#include <keel/guest_events.h>
#include <keel/iobus.h>
#include <keel/irq.h>
#include <keel/vclock.h>

#define VPM_PORT_BASE 0x600
#define VPM_PM1A_EVT (VPM_PORT_BASE + 0) /* PM1_STS at +0, PM1_EN at +2 */
#define VPM_PM1A_CNT (VPM_PORT_BASE + 4)
#define VPM_PM_TMR (VPM_PORT_BASE + 8)
#define VPM_PORTS 12
#define VPM_SCI_IRQ 9
#define VPM_TIMER_HZ 3579545u

/* PM1_STS / PM1_EN bits (ACPI tables 4.16, 4.17). */
#define PM1_TMR (1u << 0)
#define PM1_GBL (1u << 5)
#define PM1_PWRBTN (1u << 8)
#define PM1_SLPBTN (1u << 9)
#define PM1_RTC (1u << 10)
#define PM1_STS_WAK (1u << 15)
/* PM1_CNT bits (table 4.18). */
#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP (7u << 10)
#define PM1_CNT_SLP_EN (1u << 13)

/* The sleeping-state values of SLP_TYP in Keel's DSDT (\_S3, \_S4, \_S5). */
#define VPM_SLP_TYP_S5 0
#define VPM_SLP_TYP_S3 1
#define VPM_SLP_TYP_S4 2

struct vpm {
	uint16_t sts, en, cnt;
	bool suspended; /* in S3: only an enabled wake event does anything */
	const struct vclock *clock;
	struct irq_line irq;
	const struct guest_events *events;
	uint64_t sleeps, wakes;
};

void vpm_init(struct vpm *pm, const struct vclock *clk, struct irq_line irq, const struct guest_events *events);
int vpm_register(struct vpm *pm, struct io_bus *bus);
uint32_t vpm_read(struct vpm *pm, uint16_t port, unsigned size);
void vpm_write(struct vpm *pm, uint16_t port, unsigned size, uint32_t val);
/* The RTC's alarm went off: RTC_STS, and a wake from S3 if RTC_EN. */
void vpm_rtc_alarm(struct vpm *pm);
/* Whether an RTC alarm would wake the suspended guest (its devices must
 * keep ticking while no vCPU runs). */
bool vpm_wake_armed(const struct vpm *pm);
/* The guest left S3 (its boot vCPU restarts at the FACS waking vector). */
void vpm_resumed(struct vpm *pm);

#endif
