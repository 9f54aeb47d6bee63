/*
 * apictest: the local APIC as an OS drives it, with and without Keel's APIC
 * virtualization (t-apic runs it both ways): self-IPIs through the ICR,
 * delivery in priority order, the TPR holding back a class and releasing
 * it when lowered, ISR and IRR as the handler and the waiting code see
 * them, the EOI, the timer in one-shot and periodic mode (its current
 * count counting down), and a level-triggered I/O APIC input whose remote
 * IRR only the EOI clears (so a lost EOI would leave one interrupt only),
 * the timer's interrupts counted against the TSC (none lost, none twice,
 * periodic and one-shot re-armed from its handler), and an IPI to an APIC
 * id no vCPU has.
 */
#include <keel/string.h>

#include "mb1test.h"

#define LAPIC 0xfee00000u
#define REG_TPR 0x80
#define REG_PPR 0xa0
#define REG_EOI 0xb0
#define REG_LDR 0xd0
#define REG_DFR 0xe0
#define REG_SVR 0xf0
#define REG_ISR 0x100
#define REG_IRR 0x200
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_TIMER_ICR 0x380
#define REG_TIMER_CCR 0x390
#define REG_TIMER_DCR 0x3e0
#define ICR_SELF (1u << 18)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define IOAPIC 0xfec00000u
#define PIT_HZ 1193182u

#define V_LOW 0x41
#define V_MID 0x81
#define V_HIGH 0xe1
#define V_TIMER 0x51
#define V_PIT 0x61

static volatile uint32_t got[16], n_got, isr_in_handler, pit_count, exception;
/* The timer's interrupts counted against the TSC (section 6): how many,
 * how many came closer than min_gap TSC ticks to the one before (a
 * duplicate), and, for a one-shot timer the handler arms again as an OS's
 * tick does, the initial count it writes (0: none) and how often it did. */
static volatile uint32_t timer_fires, timer_short_gaps, timer_chain, timer_rearms;
static volatile uint64_t timer_last, timer_min_gap;
static uint64_t rdtsc(void);

static uint32_t rd(uint32_t reg) { return *(volatile uint32_t *)(uintptr_t)(LAPIC + reg); }
static void wr(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(uintptr_t)(LAPIC + reg) = v; }
static int bit(uint32_t base, unsigned v) { return (rd(base + 16 * (v >> 5)) >> (v & 31)) & 1; }

/* Called by the stubs with the vector: records it, checks that it is in
 * service, and ends it with an EOI. */
void apic_irq(uint32_t vec);
void apic_irq(uint32_t vec)
{
	if (vec < 32) {
		exception = vec + 1;
		return;
	}
	if (vec == V_TIMER) {
		uint64_t t = rdtsc();
		if (timer_fires && t - timer_last < timer_min_gap)
			timer_short_gaps++;
		timer_last = t;
		timer_fires++;
		if (timer_chain) {
			wr(REG_TIMER_ICR, timer_chain);
			timer_rearms++;
		}
	}
	if (vec == V_PIT)
		pit_count++;
	else if (n_got < 16)
		got[n_got++] = vec;
	if (bit(REG_ISR, vec))
		isr_in_handler++;
	wr(REG_EOI, 0);
}

/* One stub per vector used: push the vector, call apic_irq, return. */
#define STUB(v) "apic_stub_" #v ":\n	pushl $" #v "\n	jmp apic_common\n"
__asm__(".text\n" STUB(0x41) STUB(0x81) STUB(0xe1) STUB(0x51) STUB(0x61) STUB(13) STUB(14) STUB(6)
	"apic_common:\n"
	"	pushal\n"
	"	pushl 32(%esp)\n"
	"	call apic_irq\n"
	"	addl $4, %esp\n"
	"	popal\n"
	"	addl $4, %esp\n"
	"	cmpl $0, exception\n"
	"	jne 1f\n"
	"	iret\n"
	"1:	cli\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	"apic_spurious:\n"
	"	iret\n");
extern char apic_stub_0x41[], apic_stub_0x81[], apic_stub_0xe1[], apic_stub_0x51[], apic_stub_0x61[],
	apic_stub_13[], apic_stub_14[], apic_stub_6[], apic_spurious[];

static uint64_t idt[256];

static uint64_t gate(void *handler)
{
	uint32_t off = (uint32_t)(uintptr_t)handler;
	uint16_t cs;
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return (uint64_t)(off & 0xffff) | ((uint64_t)cs << 16) | (0x8e00ULL << 32) | ((uint64_t)(off >> 16) << 48);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t tsc_hz(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	if (a < 0x15)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x15), "c"(0));
	return a && b && c ? (uint64_t)c * b / a : 0;
}

/* The APIC timer's clock: CPUID 0x15's crystal (ECX), as Keel states it. */
static uint32_t crystal_hz(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x15), "c"(0));
	return c;
}

static void wait_ticks(uint64_t ticks)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < ticks && !exception)
		__asm__ volatile("pause");
}

static void self_ipi(uint8_t vec) { wr(REG_ICR_LO, ICR_SELF | vec); }

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC + 0x10) = v;
}

void apic_test(void)
{
	uint64_t hz = tsc_hz();
	check(hz != 0, "apictest: CPUID 0x15 states no TSC rate");
	if (!hz)
		return;
	for (unsigned v = 0; v < 256; v++)
		idt[v] = gate(apic_spurious);
	idt[V_LOW] = gate(apic_stub_0x41);
	idt[V_MID] = gate(apic_stub_0x81);
	idt[V_HIGH] = gate(apic_stub_0xe1);
	idt[V_TIMER] = gate(apic_stub_0x51);
	idt[V_PIT] = gate(apic_stub_0x61);
	idt[6] = gate(apic_stub_6);
	idt[13] = gate(apic_stub_13);
	idt[14] = gate(apic_stub_14);
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(idtr));
	outb(0x21, 0xff); /* the 8259A masked: only the APICs speak */
	outb(0xa1, 0xff);
	wr(REG_SVR, 0x1ff);
	wr(REG_DFR, 0xffffffffu);
	wr(REG_LDR, 1u << 24);
	wr(REG_LVT_LINT0, 0x10700);
	wr(REG_TPR, 0);

	/* 1. A self-IPI is delivered at once, in service in its handler,
	 * and out of service after its EOI. */
	n_got = isr_in_handler = 0;
	__asm__ volatile("sti");
	self_ipi(V_LOW);
	__asm__ volatile("nop; cli");
	check(n_got == 1 && got[0] == V_LOW, "apictest: self-IPI not delivered");
	check(isr_in_handler == 1, "apictest: vector not in service (ISR) in its handler");
	check(!bit(REG_ISR, V_LOW) && !bit(REG_IRR, V_LOW), "apictest: ISR/IRR not clear after the EOI");

	/* 2. Three requests made with interrupts off come in priority order. */
	n_got = 0;
	self_ipi(V_LOW);
	self_ipi(V_HIGH);
	self_ipi(V_MID);
	check(bit(REG_IRR, V_LOW) && bit(REG_IRR, V_MID) && bit(REG_IRR, V_HIGH),
	      "apictest: requests not in the IRR while interrupts are off");
	__asm__ volatile("sti; nop; nop; nop; cli");
	check(n_got == 3 && got[0] == V_HIGH && got[1] == V_MID && got[2] == V_LOW,
	      "apictest: not delivered in priority order (0xe1, 0x81, 0x41)");

	/* 3. The TPR holds back a class at or below its own; PPR follows;
	 * lowering the TPR delivers what waited, without another event. */
	n_got = 0;
	wr(REG_TPR, 0x50);
	__asm__ volatile("sti");
	self_ipi(V_LOW);
	wait_ticks(hz / 2000);
	check(n_got == 0, "apictest: vector 0x41 delivered through TPR 0x50");
	check(bit(REG_IRR, V_LOW), "apictest: vector 0x41 not waiting in the IRR under TPR 0x50");
	check(rd(REG_PPR) == 0x50, "apictest: PPR is not the TPR's 0x50");
	check(rd(REG_TPR) == 0x50, "apictest: TPR does not read back 0x50");
	self_ipi(V_MID); /* above the TPR: delivered */
	wait_ticks(hz / 2000);
	check(n_got == 1 && got[0] == V_MID, "apictest: vector 0x81 held back by TPR 0x50");
	wr(REG_TPR, 0x30);
	__asm__ volatile("nop");
	check(n_got == 2 && got[1] == V_LOW, "apictest: lowering the TPR did not deliver the waiting 0x41");
	__asm__ volatile("cli");
	wr(REG_TPR, 0);

	/* 4. The timer, one-shot: one interrupt, the current count counts
	 * down, then reads 0. ~1 ms at divide-by-1. */
	uint32_t bus = crystal_hz();
	check(bus != 0, "apictest: CPUID 0x15 states no crystal (the APIC timer's clock)");
	uint32_t per_ms = bus ? bus / 1000 : 1000000;
	n_got = 0;
	wr(REG_TIMER_DCR, 0xb); /* divide by 1 */
	wr(REG_LVT_TIMER, V_TIMER);
	__asm__ volatile("sti");
	wr(REG_TIMER_ICR, per_ms);
	uint32_t c1 = rd(REG_TIMER_CCR);
	wait_ticks(hz / 5000);
	uint32_t c2 = rd(REG_TIMER_CCR);
	if (!(c1 > 0 && c1 <= per_ms && c2 < c1))
		say("mb1test: apictest: initial count %u, current count %u then %u\n", per_ms, c1, c2);
	check(c1 > 0 && c1 <= per_ms && c2 < c1, "apictest: one-shot current count does not count down");
	wait_ticks(hz / 200);
	check(n_got == 1 && got[0] == V_TIMER, "apictest: one-shot timer did not fire exactly once");
	check(rd(REG_TIMER_CCR) == 0, "apictest: one-shot current count not 0 after it fired");

	/* 5. Periodic, 1 ms for 20 ms: about 20 interrupts. */
	n_got = 0;
	wr(REG_LVT_TIMER, V_TIMER | LVT_PERIODIC);
	wr(REG_TIMER_ICR, per_ms);
	wait_ticks(hz / 50);
	wr(REG_LVT_TIMER, V_TIMER | LVT_MASKED);
	wr(REG_TIMER_ICR, 0);
	uint32_t periodic = n_got;
	__asm__ volatile("cli");
	check(periodic >= 10 && periodic <= 16, "apictest: periodic timer: not 10-16 interrupts in 20 ms");

	/* 6. No tick lost, none twice: while the guest spins without an
	 * exit, each of the timer's interrupts is an exit of its own for the
	 * hypervisor (Keel fires and delivers it without a scheduler pass
	 * when nothing else is due). Periodic at 0.5 ms for 100 ms of TSC
	 * time: one interrupt per period, to within one at either end, and
	 * none closer than a quarter period to the one before; then one-shot,
	 * armed again from each interrupt (an OS's tick): one interrupt per
	 * count written, the chain never broken. */
	uint32_t half_ms = per_ms / 2;
	uint64_t period = hz / 2000, window = hz / 10;
	timer_fires = timer_short_gaps = timer_rearms = 0;
	timer_chain = 0;
	timer_min_gap = period / 4;
	__asm__ volatile("sti");
	wr(REG_LVT_TIMER, V_TIMER | LVT_PERIODIC);
	uint64_t t0 = rdtsc();
	wr(REG_TIMER_ICR, half_ms);
	wait_ticks(window);
	wr(REG_LVT_TIMER, V_TIMER | LVT_MASKED);
	uint64_t t1 = rdtsc();
	wr(REG_TIMER_ICR, 0);
	__asm__ volatile("cli");
	uint32_t per_fires = timer_fires, per_dups = timer_short_gaps, expect = (uint32_t)((t1 - t0) / period);
	if (per_fires + 1 < expect || per_fires > expect + 1 || per_dups)
		say("mb1test: apictest: periodic 0.5 ms: %u interrupts in %u periods, %u too close\n", per_fires,
		    expect, per_dups);
	check(per_fires + 1 >= expect && per_fires <= expect + 1,
	      "apictest: periodic timer lost or added interrupts (not one per period)");
	check(per_dups == 0, "apictest: periodic timer: two interrupts within a quarter period");

	timer_fires = timer_short_gaps = timer_rearms = 0;
	timer_chain = half_ms;
	wr(REG_LVT_TIMER, V_TIMER);
	__asm__ volatile("sti");
	wr(REG_TIMER_ICR, half_ms);
	wait_ticks(window);
	__asm__ volatile("cli");
	timer_chain = 0;
	wr(REG_LVT_TIMER, V_TIMER | LVT_MASKED);
	wr(REG_TIMER_ICR, 0);
	uint32_t chain_fires = timer_fires, chain_arms = timer_rearms + 1, chain_dups = timer_short_gaps;
	/* The last count written may not have run out when interrupts went
	 * off; every other one fired exactly once. ~200 periods fit in the
	 * window if each tick costs the guest less than ~100 us. */
	if (chain_fires > chain_arms || chain_fires + 1 < chain_arms || chain_fires < 100 || chain_dups)
		say("mb1test: apictest: one-shot chain 0.5 ms: %u interrupts for %u counts written, %u too close\n",
		    chain_fires, chain_arms, chain_dups);
	check(chain_fires <= chain_arms && chain_fires + 1 >= chain_arms,
	      "apictest: one-shot timer armed from its interrupt: not one interrupt per count written");
	check(chain_fires >= 100, "apictest: one-shot timer chain broke (fewer than 100 ticks in 100 ms)");
	check(chain_dups == 0, "apictest: one-shot timer: two interrupts within a quarter period");

	/* 7. A level-triggered I/O APIC input (the PIT on pin 2, 1 kHz): its
	 * remote IRR is cleared only by the EOI reaching the I/O APIC, so a
	 * lost EOI would let one interrupt through. */
	pit_count = 0;
	uint16_t div = PIT_HZ / 1000;
	outb(0x43, 0x34);
	outb(0x40, div & 0xff);
	outb(0x40, div >> 8);
	ioapic_write(0x10 + 2 * 2 + 1, 0); /* destination APIC 0 */
	ioapic_write(0x10 + 2 * 2, V_PIT | (1u << 15)); /* fixed, physical, level, active high */
	__asm__ volatile("sti");
	wait_ticks(hz / 50);
	__asm__ volatile("cli");
	ioapic_write(0x10 + 2 * 2, V_PIT | (1u << 16));
	uint32_t level = pit_count;
	check(level >= 5, "apictest: level-triggered PIT interrupts stopped (the EOI did not reach the I/O APIC)");

	/* 8. An IPI to an APIC id nobody has goes nowhere (Keel logs it),
	 * and nothing comes back here. */
	n_got = 0;
	wr(REG_ICR_HI, 0x55u << 24);
	wr(REG_ICR_LO, V_MID);
	__asm__ volatile("sti; nop; nop; cli");
	check(n_got == 0, "apictest: an IPI to APIC id 0x55 came back");

	check(!exception, "apictest: an exception");
	say("mb1test: apictest: self-IPI, priority order, TPR, one-shot, periodic %u in 20 ms, 0.5 ms ticks: "
	    "periodic %u in %u periods, one-shot chain %u of %u, level-triggered %u in 20 ms: %s\n",
	    periodic, per_fires, expect, chain_fires, chain_arms, level, mb1test_failures() ? "FAIL" : "ok");
}
