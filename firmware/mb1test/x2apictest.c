/*
 * x2apictest: the local APIC in x2APIC mode (SDM Vol. 3A 10.12), as an OS
 * drives it, with and without Keel's APIC virtualization (t-x2apic-guest
 * runs it both ways): CPUID (leaf 1 ECX[21], leaf 0xB), the IA32_APIC_BASE
 * transitions and their #GPs, the ID and derived LDR, #GP for absent,
 * read-only and write-only registers, the MMIO page no longer decoding,
 * self-IPIs through SELF IPI (0x83F) and the 64-bit ICR (0x830), delivery
 * in priority order, TPR masking, EOI, the timer one-shot and periodic, and
 * with two vCPUs the second one started by INIT and start-up IPIs through
 * the x2APIC ICR, switching to x2APIC mode itself and taking fixed IPIs by
 * physical, logical (cluster) and shorthand destinations, and sending it
 * two NMIs back to back (both must arrive).
 *
 * x2apictest=N (N vCPUs expected), or x2apictest=off: the guest has
 * x2apic:off, CPUID must hide x2APIC and EXTD must be refused.
 */
#include <keel/string.h>

#include "mb1test.h"

#define MSR_APIC_BASE 0x1b
#define BASE_BSP_XAPIC 0xfee00900ull
#define BASE_EN (1ull << 11)
#define BASE_EXTD (1ull << 10)
#define X_ID 0x802
#define X_VERSION 0x803
#define X_TPR 0x808
#define X_PPR 0x80a
#define X_EOI 0x80b
#define X_LDR 0x80d
#define X_DFR 0x80e
#define X_SVR 0x80f
#define X_ISR 0x810
#define X_IRR 0x820
#define X_ICR 0x830
#define X_ICR2 0x831
#define X_LVT_TIMER 0x832
#define X_LVT_LINT0 0x835
#define X_TIMER_ICR 0x838
#define X_TIMER_CCR 0x839
#define X_TIMER_DCR 0x83e
#define X_SELF_IPI 0x83f
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_SELF (1u << 18)
#define ICR_OTHERS (3u << 18)
#define DM_INIT (5u << 8)
#define DM_STARTUP (6u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

#define V_LOW 0x41
#define V_MID 0x81
#define V_HIGH 0xe1
#define V_TIMER 0x51
#define V_AP 0x70
#define AP_PAGE 0x70000u /* start-up vector 0x70 */

static volatile uint32_t got[32], n_got, isr_in_handler, exception;
volatile uint32_t x2_gp_armed, x2_gp_hit, x2_nmis;

/* RDMSR/WRMSR that survive a #GP: the handler (x2_gp_stub) skips the
 * 2-byte instruction and records the fault. */
static int rdmsr_gp(uint32_t msr, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;
	x2_gp_hit = 0;
	x2_gp_armed = 1;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr), "a"(0), "d"(0) : "memory");
	x2_gp_armed = 0;
	*v = ((uint64_t)hi << 32) | lo;
	return x2_gp_hit ? -1 : 0;
}
static int wrmsr_gp(uint32_t msr, uint64_t v)
{
	x2_gp_hit = 0;
	x2_gp_armed = 1;
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
	x2_gp_armed = 0;
	return x2_gp_hit ? -1 : 0;
}
static uint64_t rd(uint32_t msr)
{
	uint64_t v;
	if (rdmsr_gp(msr, &v) < 0) {
		say("mb1test: x2apictest: RDMSR %#x raised #GP\n", msr);
		check(0, "x2apictest: an x2APIC register read raised #GP");
	}
	return v;
}
static void wr(uint32_t msr, uint64_t v)
{
	if (wrmsr_gp(msr, v) < 0) {
		say("mb1test: x2apictest: WRMSR %#x value %#llx raised #GP\n", msr, (unsigned long long)v);
		check(0, "x2apictest: an x2APIC register write raised #GP");
	}
}
static void expect_gp_rd(uint32_t msr, const char *what)
{
	uint64_t v;
	if (rdmsr_gp(msr, &v) == 0)
		say("mb1test: x2apictest: RDMSR %#x read %#llx instead of #GP\n", msr, (unsigned long long)v);
	check(x2_gp_hit, what);
}
static void expect_gp_wr(uint32_t msr, uint64_t v, const char *what)
{
	if (wrmsr_gp(msr, v) == 0)
		say("mb1test: x2apictest: WRMSR %#x value %#llx took no #GP\n", msr, (unsigned long long)v);
	check(x2_gp_hit, what);
}
static int bit(uint32_t base, unsigned v) { return (rd(base + (v >> 5)) >> (v & 31)) & 1; }

void x2_irq(uint32_t vec);
void x2_irq(uint32_t vec)
{
	if (vec < 32) {
		exception = vec + 1;
		return;
	}
	if (n_got < 32)
		got[n_got++] = vec;
	if (bit(X_ISR, vec))
		isr_in_handler++;
	wr(X_EOI, 0);
}

#define STUB(v) "x2_stub_" #v ":\n	pushl $" #v "\n	jmp x2_common\n"
__asm__(".text\n" STUB(0x41) STUB(0x81) STUB(0xe1) STUB(0x51) STUB(0x70) STUB(14) STUB(6)
	"x2_common:\n"
	"	pushal\n"
	"	pushl 32(%esp)\n"
	"	call x2_irq\n"
	"	addl $4, %esp\n"
	"	popal\n"
	"	addl $4, %esp\n"
	"	cmpl $0, exception\n"
	"	jne 1f\n"
	"	iret\n"
	"1:	cli\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	/* #GP: expected around rdmsr_gp/wrmsr_gp (skip the 2-byte RDMSR or
	 * WRMSR), else fatal like the others. */
	"x2_gp_stub:\n"
	"	addl $4, %esp\n"
	"	cmpl $0, x2_gp_armed\n"
	"	je 3f\n"
	"	movl $1, x2_gp_hit\n"
	"	addl $2, (%esp)\n"
	"	iret\n"
	"3:	pushl $13\n"
	"	jmp x2_common\n"
	"x2_spurious:\n"
	"	iret\n"
	/* Handlers that record the interrupted RFLAGS (ifmask_test). */
	"ifm_stub_self:\n"
	"	pushl $0x61\n"
	"	jmp ifm_common\n"
	"ifm_stub_poke:\n"
	"	pushl $0x62\n"
	"	jmp ifm_common\n"
	"ifm_common:\n"
	"	pushal\n"
	"	pushl 44(%esp)\n" /* the frame's EFLAGS */
	"	pushl 36(%esp)\n" /* the vector */
	"	call ifm_irq\n"
	"	addl $8, %esp\n"
	"	popal\n"
	"	addl $4, %esp\n"
	"	iret\n"
	"x2_nmi_stub:\n"
	"	incl x2_nmis\n"
	"	iret\n"
	/* The second vCPU's start-up code, copied to AP_PAGE: real mode,
	 * CS = 0x7000. It installs its interrupt handler for V_AP in the
	 * real-mode IVT, enters x2APIC mode, enables its APIC, records its
	 * x2APIC ID and LDR, and counts the IPIs it takes (EOI by WRMSR). */
	".code16\n"
	"ap_start:\n"
	"	cli\n"
	"	movw %cs, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %ss\n"
	"	movw $0xff0, %sp\n"
	"	xorw %ax, %ax\n"
	"	movw %ax, %es\n"
	"	movw $(ap_isr - ap_start), %es:0x1c0\n" /* IVT entry 0x70 */
	"	movw %cs, %es:0x1c2\n"
	"	movl $0x1b, %ecx\n"
	"	rdmsr\n"
	"	orl $0xc00, %eax\n"
	"	wrmsr\n"
	"	movl $0x80f, %ecx\n"
	"	movl $0x1ff, %eax\n"
	"	xorl %edx, %edx\n"
	"	wrmsr\n"
	"	movl $0x802, %ecx\n"
	"	rdmsr\n"
	"	movl %eax, ap_id - ap_start\n"
	"	movl $0x80d, %ecx\n"
	"	rdmsr\n"
	"	movl %eax, ap_ldr - ap_start\n"
	"	movl $1, ap_ready - ap_start\n"
	"	sti\n"
	/* Idle, or while ap_poke is set, a fixed IPI (V_POKE) to x2APIC ID
	 * 0 every 20,000 PAUSEs, counted in ap_pokes. */
	"4:	cmpl $0, %cs:ap_poke - ap_start\n"
	"	jne 6f\n"
	"	hlt\n"
	"	jmp 4b\n"
	"6:	movl $0x830, %ecx\n"
	"	movl $0x62, %eax\n"
	"	xorl %edx, %edx\n"
	"	wrmsr\n"
	"	incl %cs:ap_pokes - ap_start\n"
	"	movw $20000, %cx\n" /* the target must keep up, without APIC virtualization too */
	"7:	pause\n"
	"	loop 7b\n"
	"	jmp 4b\n"
	"ap_isr:\n"
	"	pushl %eax\n"
	"	pushl %ecx\n"
	"	pushl %edx\n"
	"	incl %cs:ap_count - ap_start\n"
	/* Asked to (ap_nmis): two NMIs to x2APIC ID 0, back to back. */
	"	cmpl $0, %cs:ap_nmis - ap_start\n"
	"	je 5f\n"
	"	movl $0, %cs:ap_nmis - ap_start\n"
	"	movl $0x830, %ecx\n"
	"	movl $0x4400, %eax\n"
	"	xorl %edx, %edx\n"
	"	wrmsr\n"
	"	wrmsr\n"
	"5:	movl $0x80b, %ecx\n"
	"	xorl %eax, %eax\n"
	"	xorl %edx, %edx\n"
	"	wrmsr\n"
	"	popl %edx\n"
	"	popl %ecx\n"
	"	popl %eax\n"
	"	iret\n"
	"	.p2align 2\n"
	"ap_id: .long 0xffffffff\n"
	"ap_ldr: .long 0xffffffff\n"
	"ap_count: .long 0\n"
	"ap_ready: .long 0\n"
	"ap_nmis: .long 0\n"
	"ap_poke: .long 0\n"
	"ap_pokes: .long 0\n"
	"ap_end:\n"
	".code32\n");
extern char x2_stub_0x41[], x2_stub_0x81[], x2_stub_0xe1[], x2_stub_0x51[], x2_stub_0x70[], x2_stub_14[],
	x2_stub_6[], x2_gp_stub[], x2_spurious[], ap_start[], ap_end[], ap_id[], ap_ldr[], ap_count[], ap_ready[], ap_nmis[], x2_nmi_stub[],
	ap_poke[], ap_pokes[], ifm_stub_self[], ifm_stub_poke[];

/* The AP's variables where it runs. */
static volatile uint32_t *ap_var(char *sym) { return (volatile uint32_t *)(uintptr_t)(AP_PAGE + (sym - ap_start)); }

static uint64_t idt[256];

static uint64_t gate(void *handler)
{
	uint32_t off = (uint32_t)(uintptr_t)handler;
	uint16_t cs;
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return (uint64_t)(off & 0xffff) | ((uint64_t)cs << 16) | (0x8e00ULL << 32) | ((uint64_t)(off >> 16) << 48);
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t tsc_hz(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] < 0x15)
		return 0;
	cpuid(0x15, 0, r);
	return r[0] && r[1] && r[2] ? (uint64_t)r[2] * r[1] / r[0] : 0;
}

static void wait_ticks(uint64_t ticks)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < ticks && !exception)
		__asm__ volatile("pause");
}

/* Waits up to `ticks` for *p to reach `want`. */
static void wait_for(volatile uint32_t *p, uint32_t want, uint64_t ticks)
{
	uint64_t t0 = rdtsc();
	while (*p != want && rdtsc() - t0 < ticks)
		__asm__ volatile("pause");
}

static uint32_t mmio32(uint32_t a) { return *(volatile uint32_t *)(uintptr_t)a; }

static void hidden_test(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	check(!(r[2] & (1u << 21)), "x2apictest: CPUID.1:ECX[21] (x2APIC) set with x2apic:off");
	uint64_t base = 0;
	check(rdmsr_gp(MSR_APIC_BASE, &base) == 0, "x2apictest: RDMSR IA32_APIC_BASE raised #GP");
	expect_gp_wr(MSR_APIC_BASE, base | BASE_EXTD, "x2apictest: EXTD accepted with x2apic:off");
	expect_gp_rd(X_ID, "x2apictest: RDMSR 0x802 without x2APIC did not raise #GP");
	say("mb1test: x2apictest: x2APIC hidden (CPUID.1:ECX %#x, EXTD refused): %s\n", r[2],
	    mb1test_failures() ? "FAIL" : "ok");
}

static void start_ap_and_ipi(uint64_t hz, uint32_t *ap_id_out, uint32_t *ap_ldr_out, uint32_t *ap_ipis)
{
	memcpy((void *)(uintptr_t)AP_PAGE, ap_start, (size_t)(ap_end - ap_start));
	/* INIT, then start-up at 0x70000, to x2APIC ID 1 (destination in
	 * bits 63:32 of the one ICR). */
	wr(X_ICR, (1ull << 32) | DM_INIT | ICR_ASSERT);
	wait_ticks(hz / 10000);
	wr(X_ICR, (1ull << 32) | DM_STARTUP | (AP_PAGE >> 12));
	wait_for(ap_var(ap_ready), 1, hz);
	check(*ap_var(ap_ready) == 1, "x2apictest: the second vCPU did not start (INIT/start-up through the x2APIC ICR)");
	*ap_id_out = *ap_var(ap_id);
	*ap_ldr_out = *ap_var(ap_ldr);
	check(*ap_id_out == 1, "x2apictest: the second vCPU's x2APIC ID is not 1");
	check(*ap_ldr_out == 0x2, "x2apictest: the second vCPU's LDR is not 0x2 (cluster 0, bit 1)");
	volatile uint32_t *count = ap_var(ap_count);
	/* Physical destination 1. */
	n_got = 0;
	wr(X_ICR, (1ull << 32) | V_AP);
	wait_for(count, 1, hz / 10);
	check(*count == 1, "x2apictest: fixed IPI to x2APIC ID 1 (physical) not taken by the second vCPU");
	/* Logical: cluster 0, bit 1. */
	wr(X_ICR, (0x2ull << 32) | ICR_LOGICAL | V_AP);
	wait_for(count, 2, hz / 10);
	check(*count == 2, "x2apictest: fixed IPI to logical 0x00000002 not taken by the second vCPU");
	/* Logical: cluster 0, bits 0 and 1: both vCPUs. */
	__asm__ volatile("sti");
	wr(X_ICR, (0x3ull << 32) | ICR_LOGICAL | V_AP);
	wait_for(count, 3, hz / 10);
	__asm__ volatile("nop; cli");
	check(*count == 3 && n_got == 1 && got[0] == V_AP, "x2apictest: logical 0x00000003 did not reach both vCPUs");
	/* Cluster 1 is nobody here; all-but-self reaches the other only. */
	n_got = 0;
	wr(X_ICR, (0x10002ull << 32) | ICR_LOGICAL | V_AP);
	__asm__ volatile("sti");
	wr(X_ICR, ICR_OTHERS | V_AP);
	wait_for(count, 4, hz / 10);
	wait_ticks(hz / 2000);
	__asm__ volatile("cli");
	check(*count == 4, "x2apictest: all-but-self IPI not taken (or cluster 1 reached the second vCPU)");
	check(n_got == 0, "x2apictest: all-but-self IPI came back to the sender");
	*ap_ipis = *count;
	/* Two NMIs sent before this vCPU ran again (one host CPU: the
	 * second vCPU goes on between its two ICR writes): both arrive, the
	 * second at the first handler's IRET, as KVM keeps them
	 * (kvm-unit-tests' "multiple nmi"). */
	x2_nmis = 0;
	*ap_var(ap_nmis) = 1;
	wr(X_ICR, (1ull << 32) | V_AP);
	wait_for(&x2_nmis, 2, hz / 10);
	wait_ticks(hz / 1000);
	if (x2_nmis != 2)
		say("mb1test: x2apictest: %u NMI(s) taken of the two sent back to back\n", x2_nmis);
	check(x2_nmis == 2, "x2apictest: two NMIs sent back to back did not both arrive");
}

/* Interrupts taken by ifm_stub_*: how many, and how many arrived while
 * the interrupted code had RFLAGS.IF = 0. */
#define V_SELF 0x61
#define V_POKE 0x62
static volatile uint32_t ifm_self, ifm_poke, ifm_if0;

void ifm_irq(uint32_t vec, uint32_t eflags);
void ifm_irq(uint32_t vec, uint32_t eflags)
{
	if (!(eflags & 0x200))
		ifm_if0++;
	if (vec == V_SELF)
		ifm_self++;
	else
		ifm_poke++;
	wr(X_EOI, 0);
}

/* RFLAGS.IF = 0 holds against everything another vCPU does: with a
 * request pending in this vCPU's IRR (a SELF IPI sent with interrupts
 * off) the other vCPU sends it fixed IPIs as fast as it can, each one
 * making Keel signal this vCPU's host CPU. Nothing may be delivered until
 * STI. The Linux hang of issue #17 was a timer interrupt delivered inside
 * an IPI handler this way: Bochs takes a pending virtual interrupt, IF
 * or not, when a host interrupt arrives in VMX non-root operation. Run
 * with two host CPUs, or the vCPUs never run at the same time. */
static void ifmask_test(uint64_t hz)
{
	idt[V_SELF] = gate(ifm_stub_self);
	idt[V_POKE] = gate(ifm_stub_poke);
	ifm_self = ifm_poke = ifm_if0 = 0;
	*ap_var(ap_poke) = 1;
	wr(X_ICR, (1ull << 32) | V_AP); /* out of its HLT */
	__asm__ volatile("sti");
	for (uint64_t t0 = rdtsc(); ifm_poke < 3 && rdtsc() - t0 < hz / 10;)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	check(ifm_poke >= 3, "x2apictest: the second vCPU's IPIs do not arrive");
	uint32_t sent0 = *ap_var(ap_pokes), taken0 = ifm_poke + ifm_self, if0_0 = ifm_if0;
	wr(X_SELF_IPI, V_SELF);
	wait_ticks(hz / 5);
	uint32_t taken = ifm_poke + ifm_self - taken0, if0 = ifm_if0 - if0_0;
	uint32_t sent = *ap_var(ap_pokes) - sent0;
	*ap_var(ap_poke) = 0;
	__asm__ volatile("sti");
	wait_ticks(hz / 1000);
	__asm__ volatile("cli");
	if (taken || if0)
		say("mb1test: x2apictest: %u interrupt(s) taken during 200 ms with IF=0, %u with the interrupted "
		    "RFLAGS.IF = 0, against %u IPIs\n", taken, if0, sent);
	check(taken == 0 && if0 == 0, "x2apictest: an interrupt was delivered while RFLAGS.IF was 0");
	check(ifm_self == 1, "x2apictest: the SELF IPI held back by IF=0 was not delivered once after STI");
	check(sent >= 10, "x2apictest: the second vCPU sent fewer than 10 IPIs in 200 ms");
	say("mb1test: x2apictest: IF=0 for 200 ms against %u IPIs: %u taken, %u with IF=0 in all, the SELF IPI %u "
	    "time(s) after STI\n", sent, taken, ifm_if0, ifm_self);
}

void x2apic_test(const char *arg)
{
	for (unsigned v = 0; v < 256; v++)
		idt[v] = gate(x2_spurious);
	idt[V_LOW] = gate(x2_stub_0x41);
	idt[V_MID] = gate(x2_stub_0x81);
	idt[V_HIGH] = gate(x2_stub_0xe1);
	idt[V_TIMER] = gate(x2_stub_0x51);
	idt[V_AP] = gate(x2_stub_0x70);
	idt[2] = gate(x2_nmi_stub);
	idt[6] = gate(x2_stub_6);
	idt[13] = gate(x2_gp_stub);
	idt[14] = gate(x2_stub_14);
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(idtr));
	outb(0x21, 0xff); /* the 8259A masked: only the APICs speak */
	outb(0xa1, 0xff);
	if (!strcmp(arg, "off")) {
		hidden_test();
		return;
	}
	unsigned ncpus = (unsigned)(arg[0] - '0');
	uint64_t hz = tsc_hz();
	check(hz != 0, "x2apictest: CPUID 0x15 states no TSC rate");
	if (!hz)
		return;

	/* 1. CPUID: x2APIC offered; leaf 0xB: this vCPU's x2APIC ID 0, one
	 * thread per core, N vCPUs at the core level. */
	uint32_t r[4], b0[4], b1[4];
	cpuid(1, 0, r);
	check(r[2] & (1u << 21), "x2apictest: CPUID.1:ECX[21] (x2APIC) clear");
	cpuid(0xb, 0, b0);
	cpuid(0xb, 1, b1);
	check(b0[3] == 0 && b0[1] == 1 && ((b0[2] >> 8) & 0xff) == 1, "x2apictest: CPUID 0xB subleaf 0 (SMT) wrong");
	check(b1[3] == 0 && b1[1] == ncpus && ((b1[2] >> 8) & 0xff) == 2, "x2apictest: CPUID 0xB subleaf 1 (core) wrong");
	check((1u << b1[0]) >= ncpus, "x2apictest: CPUID 0xB subleaf 1 shift too small for the vCPU count");

	/* 2. xAPIC mode: no x2APIC MSRs; EN=0 with EXTD=1 and reserved bits
	 * are #GP. */
	uint64_t base = rd(MSR_APIC_BASE);
	check(base == BASE_BSP_XAPIC, "x2apictest: IA32_APIC_BASE is not 0xfee00900 at reset");
	expect_gp_rd(X_ID, "x2apictest: RDMSR 0x802 in xAPIC mode did not raise #GP");
	expect_gp_wr(MSR_APIC_BASE, (base & ~BASE_EN) | BASE_EXTD, "x2apictest: EN=0 EXTD=1 accepted");
	expect_gp_wr(MSR_APIC_BASE, base | BASE_EXTD | (1u << 9), "x2apictest: reserved bit 9 accepted");

	/* 3. Into x2APIC mode: ID, version, LDR; the MMIO page is gone. */
	wr(MSR_APIC_BASE, base | BASE_EXTD);
	uint64_t base2 = rd(MSR_APIC_BASE);
	check(base2 == 0xfee00d00ull, "x2apictest: IA32_APIC_BASE does not read 0xfee00d00 in x2APIC mode");
	uint32_t id = (uint32_t)rd(X_ID), ldr = (uint32_t)rd(X_LDR), ver = (uint32_t)rd(X_VERSION);
	check(id == 0, "x2apictest: x2APIC ID is not 0");
	check(ldr == 1, "x2apictest: LDR is not 0x1 (cluster 0, bit 0)");
	check((ver & 0xff) == 0x14, "x2apictest: version register does not read 0x14");
	uint32_t page = mmio32(0xfee00030);
	check(page == 0xffffffffu, "x2apictest: the MMIO page still decodes in x2APIC mode");

	/* 4. #GP: read-only, write-only and absent registers, reserved bits,
	 * and x2APIC -> xAPIC directly. */
	expect_gp_wr(X_ID, 5, "x2apictest: write to the ID did not raise #GP");
	expect_gp_wr(X_LDR, 0, "x2apictest: write to the LDR did not raise #GP");
	expect_gp_wr(X_TIMER_CCR, 0, "x2apictest: write to the current count did not raise #GP");
	expect_gp_rd(X_DFR, "x2apictest: RDMSR DFR (0x80e) did not raise #GP");
	expect_gp_rd(X_ICR2, "x2apictest: RDMSR 0x831 (no ICR2) did not raise #GP");
	expect_gp_rd(X_EOI, "x2apictest: RDMSR EOI did not raise #GP");
	expect_gp_rd(X_SELF_IPI, "x2apictest: RDMSR SELF IPI did not raise #GP");
	expect_gp_wr(X_EOI, 1, "x2apictest: non-zero EOI did not raise #GP");
	expect_gp_wr(X_TPR, 0x100, "x2apictest: TPR bit 8 did not raise #GP");
	expect_gp_wr(MSR_APIC_BASE, base, "x2apictest: x2APIC -> xAPIC directly did not raise #GP");
	check(rd(MSR_APIC_BASE) == 0xfee00d00ull, "x2apictest: a refused transition changed IA32_APIC_BASE");

	wr(X_SVR, 0x1ff);
	wr(X_LVT_LINT0, 0x10700);
	wr(X_TPR, 0);

	/* 5. SELF IPI: delivered at once, in service in its handler, gone
	 * after the EOI. Then through the ICR: shorthand self, and physical
	 * destination = this x2APIC ID. */
	n_got = isr_in_handler = 0;
	__asm__ volatile("sti");
	wr(X_SELF_IPI, V_LOW);
	__asm__ volatile("nop; nop; cli");
	check(n_got == 1 && got[0] == V_LOW, "x2apictest: SELF IPI not delivered");
	check(isr_in_handler == 1, "x2apictest: vector not in service (ISR) in its handler");
	check(!bit(X_ISR, V_LOW) && !bit(X_IRR, V_LOW), "x2apictest: ISR/IRR not clear after the EOI");
	__asm__ volatile("sti");
	wr(X_ICR, ICR_SELF | V_MID);
	__asm__ volatile("nop; nop; cli");
	wr(X_ICR, ((uint64_t)id << 32) | V_HIGH);
	__asm__ volatile("sti; nop; nop; cli");
	check(n_got == 3 && got[1] == V_MID && got[2] == V_HIGH, "x2apictest: self-IPIs through the ICR not delivered");
	check(rd(X_ICR) == (((uint64_t)id << 32) | V_HIGH), "x2apictest: the ICR does not read back");

	/* 6. Priority order of requests made with interrupts off. */
	n_got = 0;
	wr(X_SELF_IPI, V_LOW);
	wr(X_SELF_IPI, V_HIGH);
	wr(X_SELF_IPI, V_MID);
	check(bit(X_IRR, V_LOW) && bit(X_IRR, V_MID) && bit(X_IRR, V_HIGH),
	      "x2apictest: requests not in the IRR while interrupts are off");
	__asm__ volatile("sti; nop; nop; nop; cli");
	check(n_got == 3 && got[0] == V_HIGH && got[1] == V_MID && got[2] == V_LOW,
	      "x2apictest: not delivered in priority order (0xe1, 0x81, 0x41)");

	/* 7. TPR masking; PPR follows; lowering the TPR delivers. */
	n_got = 0;
	wr(X_TPR, 0x50);
	__asm__ volatile("sti");
	wr(X_SELF_IPI, V_LOW);
	wait_ticks(hz / 2000);
	check(n_got == 0, "x2apictest: vector 0x41 delivered through TPR 0x50");
	check(bit(X_IRR, V_LOW), "x2apictest: vector 0x41 not waiting in the IRR under TPR 0x50");
	uint32_t ppr = (uint32_t)rd(X_PPR), tpr = (uint32_t)rd(X_TPR);
	check(ppr == 0x50 && tpr == 0x50, "x2apictest: PPR/TPR do not read 0x50");
	wr(X_SELF_IPI, V_MID);
	wait_ticks(hz / 2000);
	check(n_got == 1 && got[0] == V_MID, "x2apictest: vector 0x81 held back by TPR 0x50");
	wr(X_TPR, 0x30);
	__asm__ volatile("nop; nop");
	check(n_got == 2 && got[1] == V_LOW, "x2apictest: lowering the TPR did not deliver the waiting 0x41");
	__asm__ volatile("cli");
	wr(X_TPR, 0);

	/* 8. The timer: one-shot (~1 ms at divide-by-1, counting down, then
	 * 0), periodic (1 ms for 20 ms). */
	uint32_t c[4];
	cpuid(0x15, 0, c);
	uint32_t per_ms = c[2] ? c[2] / 1000 : 1000000;
	n_got = 0;
	wr(X_TIMER_DCR, 0xb);
	wr(X_LVT_TIMER, V_TIMER);
	__asm__ volatile("sti");
	wr(X_TIMER_ICR, per_ms);
	uint32_t c1 = (uint32_t)rd(X_TIMER_CCR);
	wait_ticks(hz / 5000);
	uint32_t c2 = (uint32_t)rd(X_TIMER_CCR);
	check(c1 > 0 && c1 <= per_ms && c2 < c1, "x2apictest: one-shot current count does not count down");
	wait_ticks(hz / 200);
	check(n_got == 1 && got[0] == V_TIMER, "x2apictest: one-shot timer did not fire exactly once");
	check(rd(X_TIMER_CCR) == 0, "x2apictest: one-shot current count not 0 after it fired");
	n_got = 0;
	wr(X_LVT_TIMER, V_TIMER | LVT_PERIODIC);
	wr(X_TIMER_ICR, per_ms);
	wait_ticks(hz / 50);
	wr(X_LVT_TIMER, V_TIMER | LVT_MASKED);
	wr(X_TIMER_ICR, 0);
	uint32_t periodic = n_got;
	__asm__ volatile("cli");
	if (periodic < 10 || periodic > 21)
		say("mb1test: x2apictest: periodic timer: %u interrupts in 20 ms (first vectors %#x %#x)\n", periodic, got[0],
		    got[1]);
	check(periodic >= 10 && periodic <= 21, "x2apictest: periodic timer: not 10-21 interrupts in 20 ms");

	/* 9. An IPI to x2APIC ID 0x55 goes nowhere (Keel logs it). */
	n_got = 0;
	wr(X_ICR, (0x55ull << 32) | V_MID);
	__asm__ volatile("sti; nop; nop; cli");
	check(n_got == 0, "x2apictest: an IPI to x2APIC ID 0x55 came back");

	/* 10. Another vCPU, started and reached through the x2APIC ICR. */
	uint32_t ap_id = 0, ap_ldr = 0, ap_ipis = 0;
	if (ncpus >= 2) {
		start_ap_and_ipi(hz, &ap_id, &ap_ldr, &ap_ipis);
		ifmask_test(hz);
	}

	/* 11. Out through disabled: x2APIC -> disabled, disabled -> x2APIC is
	 * #GP, disabled -> xAPIC decodes the page again with the 8-bit ID. */
	wr(MSR_APIC_BASE, base & ~BASE_EN);
	expect_gp_wr(MSR_APIC_BASE, base | BASE_EXTD, "x2apictest: disabled -> x2APIC accepted");
	wr(MSR_APIC_BASE, base);
	uint32_t xver = mmio32(0xfee00030), xid = mmio32(0xfee00020);
	check((xver & 0xff) == 0x14 && xid == 0, "x2apictest: the MMIO page does not decode again in xAPIC mode");
	expect_gp_rd(X_ID, "x2apictest: RDMSR 0x802 back in xAPIC mode did not raise #GP");

	check(!exception, "x2apictest: an exception");
	say("mb1test: x2apictest: base %#llx ID %u LDR %#x page %#x; self-IPIs, priority order, TPR/PPR %#x/%#x, "
	    "one-shot, periodic %u in 20 ms; AP ID %u LDR %#x, IPIs taken %u; back to xAPIC ID %#x: %s\n",
	    (unsigned long long)base2, id, ldr, page, tpr, ppr, periodic, ap_id, ap_ldr, ap_ipis, xid,
	    mb1test_failures() ? "FAIL" : "ok");
}
