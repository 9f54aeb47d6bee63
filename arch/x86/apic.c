/*
 * Host local APIC: a one-shot timer to wake a halted CPU at the next guest
 * deadline, and IPIs to start the other CPUs, wake them and kick them.
 *
 * Two ways to reach the same registers (SDM 10.12): in xAPIC mode through
 * the MMIO page, which must be uncached, so its 2 MiB identity mapping
 * gets PCD|PWT (SDM 10.4.1: "the APIC registers are mapped ... UC"); in
 * x2APIC mode as MSRs 0x800 + (offset >> 4), where the ICR is one 64-bit
 * MSR with the 32-bit destination in its high half and no delivery-status
 * bit to wait for (SDM 10.12.9). Which mode: include/keel/apic_mode.h.
 * Every CPU uses the same mode.
 */
#include <keel/apic.h>
#include <keel/apic_mode.h>
#include <keel/console.h>
#include <keel/screen.h>
#include <keel/tsc.h>
#include <x86/cpu.h>
#include <x86/io.h>

#define APIC_ID 0x020
#define APIC_EOI 0x0b0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_SVR 0x0f0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define APIC_SVR_ENABLE (1u << 8)
#define APIC_LVT_MASKED (1u << 16)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_FIXED 0u
#define ICR_NMI (4u << 8)
#define ICR_ALL_BUT_SELF (3u << 18) /* destination shorthand */
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_DELIVERY_PENDING (1u << 12)
#define MSR_X2APIC_BASE 0x800 /* x2APIC register = MSR_X2APIC_BASE + (xAPIC offset >> 4) */
#define MSR_X2APIC_ICR (MSR_X2APIC_BASE + (APIC_ICR_LO >> 4))

extern uint64_t boot_pd[];

static volatile uint32_t *apic; /* the MMIO page (xAPIC mode) */
static bool x2apic;              /* registers are MSRs */
static bool present;             /* apic_init found and set up an APIC */
static uint64_t apic_ticks_per_tsc_q32; /* APIC timer ticks per TSC tick, 32.32 */
static bool usable;

static uint32_t apic_read(unsigned reg)
{
	return x2apic ? (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4)) : apic[reg / 4];
}

static void apic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
	else
		apic[reg / 4] = v;
}

void apic_eoi(void)
{
	if (present)
		apic_write(APIC_EOI, 0);
}

bool apic_x2apic_mode(void) { return x2apic; }

bool apic_timer_usable(void) { return usable; }

/* The machine's own 8259s: firmware leaves them on vectors 8-15, which
 * collide with CPU exceptions. Remap them out of the way (0xF0-0xFF) and
 * mask every line; Keel takes no legacy interrupts. */
static void legacy_pic_disable(void)
{
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0xf0);
	outb(0xa1, 0xf8);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/* Puts this CPU's APIC in the chosen mode. Entering x2APIC from xAPIC is
 * one write setting EXTD with EN; leaving it needs a full disable first
 * (SDM 10.12.5, "x2APIC State Transitions"). */
static void apic_set_mode_this_cpu(void)
{
	uint64_t base_msr = rdmsr(MSR_IA32_APIC_BASE);
	bool on = base_msr & APIC_BASE_X2APIC;
	if (x2apic && !on) {
		wrmsr(MSR_IA32_APIC_BASE, base_msr | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	} else if (!x2apic && on) {
		wrmsr(MSR_IA32_APIC_BASE, base_msr & ~(APIC_BASE_X2APIC | APIC_BASE_ENABLE));
		wrmsr(MSR_IA32_APIC_BASE, (base_msr & ~APIC_BASE_X2APIC) | APIC_BASE_ENABLE);
	} else if (!(base_msr & APIC_BASE_ENABLE)) {
		wrmsr(MSR_IA32_APIC_BASE, base_msr | APIC_BASE_ENABLE);
	}
}

static void apic_setup_this_cpu(void)
{
	apic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
	apic_write(APIC_TIMER_DIV, 0xb); /* divide by 1 */
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_VECTOR);
}

void apic_init(enum apic_request request, const struct acpi_cpus *cpus)
{
	legacy_pic_disable();
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	if (!(d & CPUID_1_EDX_APIC)) {
		pr_info("apic: no local APIC; idle CPUs will spin\n");
		return;
	}
	struct apic_mode_facts facts = {
		.cpu_has_x2apic = c & CPUID_1_ECX_X2APIC,
		.firmware_x2apic = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC,
		.madt_x2apic = cpus && cpus->nr_x2apic_entries,
		.max_apic_id = cpus ? cpus->max_apic_id : 0,
		.request = request,
	};
	char why[128];
	x2apic = apic_mode_choose(&facts, why, sizeof(why)) == APIC_MODE_X2APIC;
	if (!x2apic) {
		uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & 0xfffff000ULL;
		if (base >= GiB(4)) {
			pr_info("apic: APIC page above 4 GiB in xAPIC mode (%s); idle CPUs will spin\n", why);
			return;
		}
		boot_pd[base >> 21] |= PTE_PCD | PTE_PWT;
		write_cr3(read_cr3());
		apic = (volatile uint32_t *)(uintptr_t)base;
	}
	apic_set_mode_this_cpu();
	present = true;
	pr_info("apic: %s mode: %s\n", x2apic ? "x2APIC" : "xAPIC", why);
	apic_setup_this_cpu();

	/* Calibrate the timer against the TSC over ~1 ms. */
	apic_write(APIC_TIMER_INIT, 0xffffffff);
	uint64_t t0 = rdtsc(), span = tsc_hz / 1000;
	while (rdtsc() - t0 < span)
		cpu_relax();
	uint32_t elapsed = 0xffffffff - apic_read(APIC_TIMER_CUR);
	uint64_t t1 = rdtsc();
	apic_write(APIC_TIMER_INIT, 0);
	if (elapsed == 0) {
		pr_info("apic: timer does not count; idle CPUs will spin\n");
		return;
	}
	apic_ticks_per_tsc_q32 = ((uint64_t)elapsed << 32) / (t1 - t0);
	usable = true;
	pr_debug("apic: timer %lu kHz\n", (uint64_t)elapsed * 1000 / ((t1 - t0) * 1000 / tsc_hz + 1) / 1000);
}

void apic_idle_until(uint64_t deadline_tsc)
{
	/* Idle time is when the screen gets drawn (never on a VM exit). */
	screen_draw_pending(deadline_tsc);
	uint64_t now = rdtsc();
	if (deadline_tsc <= now)
		return;
	if (!usable) {
		while (rdtsc() < deadline_tsc)
			cpu_relax();
		return;
	}
	uint64_t ticks = (uint64_t)(((unsigned __int128)(deadline_tsc - now) * apic_ticks_per_tsc_q32) >> 32);
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffffULL)
		ticks = 0xffffffffULL;
	apic_write(APIC_LVT_TIMER, APIC_TIMER_VECTOR); /* one-shot, unmasked */
	apic_write(APIC_TIMER_INIT, (uint32_t)ticks);
	/* sti; hlt is atomic with respect to interrupts (STI shadow), so the
	 * timer cannot fire between the two and leave us asleep. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	apic_write(APIC_TIMER_INIT, 0);
}

void apic_init_ap(void)
{
	if (!present)
		return;
	apic_set_mode_this_cpu();
	apic_setup_this_cpu();
}

bool apic_present(void) { return present; }

/* xAPIC: the id is bits 31:24 of the ID register; x2APIC: all 32 bits. */
uint32_t apic_id(void)
{
	if (!present)
		return 0;
	return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

static bool apic_send(uint32_t dest, uint32_t icr)
{
	if (x2apic) {
		/* One write sends it; nothing to wait for (SDM 10.12.9). */
		wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | icr);
		return true;
	}
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr);
	uint64_t t0 = rdtsc();
	while (apic_read(APIC_ICR_LO) & ICR_DELIVERY_PENDING)
		if (rdtsc() - t0 > tsc_hz / 100)
			return false;
	return true;
}

static void delay_us(uint64_t us)
{
	uint64_t t0 = rdtsc(), span = tsc_hz / 1000000 * us;
	while (rdtsc() - t0 < span)
		cpu_relax();
}

/* The universal start-up algorithm (SDM 8.4.4.1): INIT, 10 ms, then two
 * start-up IPIs 200 us apart; the AP starts in real mode at vector << 12. */
static bool start_up(uint32_t dest, uint32_t shorthand, uint32_t trampoline_pa)
{
	if (!apic_send(dest, shorthand | ICR_INIT | ICR_LEVEL_ASSERT))
		return false;
	delay_us(10000);
	for (int i = 0; i < 2; i++) {
		if (!apic_send(dest, shorthand | ICR_STARTUP | ICR_LEVEL_ASSERT | (trampoline_pa >> 12)))
			return false;
		delay_us(200);
	}
	return true;
}

bool apic_start_ap(uint32_t dest, uint32_t trampoline_pa) { return start_up(dest, 0, trampoline_pa); }

bool apic_start_all_other_cpus(uint32_t trampoline_pa) { return start_up(0, ICR_ALL_BUT_SELF, trampoline_pa); }

bool apic_send_nmi_all_but_self(void)
{
	/* NMI delivery ignores the vector and reaches a CPU with interrupts
	 * off or running a guest (NMI exiting is on, hvm/vmx/vmx.c). */
	return present && apic_send(0, ICR_NMI | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF);
}

/* Kicks are NMIs, not fixed interrupts: Bochs (2.7, and 3.0 still) takes
 * a pending virtual interrupt when a host interrupt arrives in VMX
 * non-root operation, whatever the guest's RFLAGS.IF, where the SDM has an
 * external-interrupt VM exit (docs/scheduling.md, "Kicks"). An NMI is a VM
 * exit on every CPU. */
void apic_kick(uint32_t dest) { apic_send(dest, ICR_NMI | ICR_LEVEL_ASSERT); }

/* An idle CPU sleeps in STI; HLT, which an interrupt ends without a race. */
void apic_wake(uint32_t dest) { apic_send(dest, ICR_FIXED | ICR_LEVEL_ASSERT | APIC_WAKE_VECTOR); }
