/*
 * conform: hardware behaviours guests (and kvm-unit-tests) rely on, each a
 * regression test of a Keel fix (docs/conformance.md). Selected by the
 * command line, conform=NAME[+NAME...], run in this order:
 *
 *   misc       IA32_MISC_ENABLE: BTS/PEBS unavailable, the writable bits
 *              read back, a reserved bit is #GP
 *   rf         an injected #GP (MOV to CR4 of a bit Keel does not offer)
 *              pushes EFLAGS with RF set, as a fault does
 *   nmi        an NMI sent to itself inside its NMI handler waits for the
 *              handler's IRET and is delivered right after it (not lost,
 *              not nested, not late)
 *   task       hardware task switches, which Keel emulates: a far JMP to
 *              another TSS and back (registers kept, busy bits moved), a
 *              far CALL whose task returns with IRET (NT, back link), and
 *              #GP through a task gate with its error code on the new stack
 *   s3         ACPI suspend to RAM (acpi=pm): the FACS waking vector set
 *              to a real-mode stub, the RTC alarm enabled as the wake
 *              event, SLP_TYP S3 + SLP_EN; the stub, run on the wake,
 *              exits with status 0x5a (keel-run: 181)
 *   poweroff   ACPI S5 (acpi=pm): the guest ends with status 0
 *   nmihlt     inside its NMI handler the kernel sends itself a second NMI
 *              and halts with interrupts on: the blocked NMI must not end
 *              the halt (the timer interrupt does); it arrives at the
 *              timer handler's IRET, which ends NMI blocking
 *   testdev    QEMU's pc-testdev (testdev:on): the data port, the MMIO
 *              page at 0xFF000000, an interrupt line seen in the 8259A's IRR
 *   step       single-stepping (EFLAGS.TF) over CPUID, which Keel completes
 *              for the guest, traps right after CPUID, as on hardware
 *   stephlt    single-stepping over STI;HLT with the local APIC timer armed:
 *              the trap after HLT comes first, at the instruction after
 *              HLT, before the timer interrupt that ends the halt takes
 *              TF away (kvm-unit-tests' debug test)
 *   unclaimed  a load where no RAM or device answers reads all ones and a
 *              store is dropped: above RAM, and at 0xFEE00000 once the
 *              local APIC is globally disabled (IA32_APIC_BASE bit 11)
 *
 * Each prints "mb1test: conform NAME ok" or FAIL lines (check()).
 */
#include <keel/string.h>

#include "mb1test.h"

#define LAPIC 0xfee00000u
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
/* ICR: NMI delivery (100b), assert, destination shorthand "self". */
#define ICR_SELF_NMI ((4u << 8) | (1u << 14) | (1u << 18))
#define MSR_APIC_BASE 0x1b
#define MSR_MISC_ENABLE 0x1a0
#define EFLAGS_RF (1u << 16)

volatile uint32_t conform_gp, conform_gp_eflags, conform_nmis, conform_nmi_nested, conform_dbs, conform_db_eip;
/* nmihlt: the first NMI halts in its handler; the timer count seen right
 * after that HLT ended. */
volatile uint32_t conform_nmi_halt, conform_timer_at_wake;
/* stephlt: the #DB handler keeps TF when conform_db_keep_tf is set and
 * records the first eight trap addresses; the timer counts its interrupts. */
volatile uint32_t conform_db_keep_tf, conform_db_eips[8], conform_timer_irqs;
#define CONFORM_TIMER_VECTOR 0x30

/* #GP: count it, keep the EFLAGS image the CPU pushed, and skip the
 * faulting instruction (every one this file provokes is 2 or 3 bytes long:
 * conform_gp_skip says how many). NMI: count it; the first one sends a
 * second to itself through the ICR and stays in the handler a while: the
 * second must not arrive before the IRET. */
volatile uint32_t conform_gp_skip = 2;
__asm__(".text\n"
	"conform_gp_stub:\n"
	"	incl conform_gp\n"
	"	addl $4, %esp\n" /* the error code */
	"	pushl %eax\n"
	"	movl 12(%esp), %eax\n" /* EFLAGS above EIP and CS */
	"	movl %eax, conform_gp_eflags\n"
	"	movl conform_gp_skip, %eax\n"
	"	addl %eax, 4(%esp)\n"
	"	popl %eax\n"
	"	iret\n"
	"conform_nmi_stub:\n"
	"	pushl %eax\n"
	"	incl conform_nmis\n"
	"	cmpl $1, conform_nmis\n"
	"	jne 2f\n"
	"	cmpl $0, conform_nmi_halt\n"
	"	je 7f\n"
	"	movl $" "0x44400" ", 0xfee00300\n" /* a second NMI, held by NMI blocking */
	"	movl $200000, 0xfee00380\n"	/* the timer: what may end the halt */
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	movl conform_timer_irqs, %eax\n"
	"	movl %eax, conform_timer_at_wake\n"
	"	jmp 2f\n"
	"7:\n"
	"	movl $" "0x44400" ", 0xfee00300\n"
	"	movl $200000, %eax\n"
	"1:	cmpl $1, conform_nmis\n"
	"	je 3f\n"
	"	movl $1, conform_nmi_nested\n"
	"3:	decl %eax\n"
	"	jnz 1b\n"
	"2:	popl %eax\n"
	"	iret\n"
	"conform_db_stub:\n" /* count, keep EIP, stop stepping (TF off in the image) unless told to keep it */
	"	incl conform_dbs\n"
	"	pushl %eax\n"
	"	pushl %ebx\n"
	"	movl 8(%esp), %eax\n"
	"	movl %eax, conform_db_eip\n"
	"	movl conform_dbs, %ebx\n"
	"	cmpl $8, %ebx\n"
	"	ja 5f\n"
	"	movl %eax, conform_db_eips-4(,%ebx,4)\n"
	"5:	popl %ebx\n"
	"	cmpl $0, conform_db_keep_tf\n"
	"	jne 6f\n"
	"	andl $~0x100, 12(%esp)\n"
	"6:	popl %eax\n"
	"	iret\n"
	"conform_timer_stub:\n" /* count, EOI */
	"	incl conform_timer_irqs\n"
	"	movl $0, 0xfee000b0\n"
	"	iret\n"
	"conform_other_stub:\n"
	"	cli\n"
	"4:	hlt\n"
	"	jmp 4b\n");
extern char conform_gp_stub[], conform_nmi_stub[], conform_db_stub[], conform_timer_stub[], conform_other_stub[];

static uint64_t idt[CONFORM_TIMER_VECTOR + 1];

static uint64_t gate(void *handler)
{
	uint32_t off = (uint32_t)(uintptr_t)handler;
	uint16_t cs;
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return (uint64_t)(off & 0xffff) | ((uint64_t)cs << 16) | (0x8e00ULL << 32) | ((uint64_t)(off >> 16) << 48);
}

static void idt_setup(void)
{
	for (unsigned v = 0; v < sizeof(idt) / sizeof(idt[0]); v++)
		idt[v] = gate(v == 1			      ? conform_db_stub
			      : v == 2			      ? conform_nmi_stub
			      : v == 13			      ? conform_gp_stub
			      : v == CONFORM_TIMER_VECTOR ? conform_timer_stub
							      : conform_other_stub);
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uint32_t mmio_read32(uint32_t a) { return *(volatile uint32_t *)(uintptr_t)a; }
static uint8_t mmio_read8(uint32_t a) { return *(volatile uint8_t *)(uintptr_t)a; }
static void mmio_write32(uint32_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }

static void conform_misc(void)
{
	conform_gp = 0;
	uint64_t orig = rdmsr(MSR_MISC_ENABLE);
	say("mb1test: conform misc: IA32_MISC_ENABLE %#x:%08x\n", (unsigned)(orig >> 32), (unsigned)orig);
	check(!conform_gp, "conform misc: RDMSR IA32_MISC_ENABLE raised #GP");
	check((orig & (1u << 11)) && (orig & (1u << 12)), "conform misc: BTS/PEBS unavailable (bits 11, 12) not set");
	/* The writable bits (0, 3, 16, 18, 22, 23, 34), the read-only ones kept. */
	uint64_t want = (0x400c50809ULL & ~0x1880ULL) | (orig & 0x1880ULL);
	wrmsr(MSR_MISC_ENABLE, want);
	uint64_t got = rdmsr(MSR_MISC_ENABLE);
	say("mb1test: conform misc: wrote %#x:%08x, read %#x:%08x\n", (unsigned)(want >> 32), (unsigned)want,
	    (unsigned)(got >> 32), (unsigned)got);
	check(!conform_gp && got == want, "conform misc: the writable bits do not read back");
	wrmsr(MSR_MISC_ENABLE, orig | 2); /* bit 1 is reserved */
	check(conform_gp == 1, "conform misc: a reserved bit did not raise #GP");
	wrmsr(MSR_MISC_ENABLE, orig);
	check(rdmsr(MSR_MISC_ENABLE) == orig, "conform misc: the original value did not come back");
}

static void conform_rf(void)
{
	/* CR4.VMXE (bit 13) is never offered: MOV to CR4 raises #GP. */
	uint32_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	conform_gp = 0;
	conform_gp_skip = 3; /* mov %eax, %cr4 is 0f 22 e0 */
	__asm__ volatile("mov %0, %%cr4" ::"a"(cr4 | (1u << 13)));
	conform_gp_skip = 2;
	say("mb1test: conform rf: #GP %u, pushed EFLAGS %#x\n", conform_gp, conform_gp_eflags);
	check(conform_gp == 1, "conform rf: MOV to CR4.VMXE did not raise #GP");
	check(conform_gp_eflags & EFLAGS_RF, "conform rf: the #GP's pushed EFLAGS lacks RF");
}

static void conform_nmi(void)
{
	mmio_write32(LAPIC + LAPIC_SVR, 0x1ff);
	conform_nmis = 0;
	conform_nmi_nested = 0;
	mmio_write32(LAPIC + LAPIC_ICR_LOW, ICR_SELF_NMI);
	/* No exit between the handler's IRET and this read: the second NMI
	 * is there only if it was delivered as NMI blocking ended. */
	uint32_t right_after = conform_nmis;
	for (volatile unsigned i = 0; i < 100000; i++)
		;
	say("mb1test: conform nmi: %u NMI(s) right after the handler, %u later, nested %u\n", right_after,
	    conform_nmis, conform_nmi_nested);
	check(!conform_nmi_nested, "conform nmi: the second NMI arrived inside the handler");
	check(right_after == 2, "conform nmi: the NMI sent inside the handler was not delivered at its IRET");
}

static void conform_step(void)
{
	/* POPF sets TF: the trap follows the instruction after it, CPUID. */
	uint32_t after_cpuid;
	conform_dbs = 0;
	__asm__ volatile("pushfl\n\t"
			 "orl $0x100, (%%esp)\n\t"
			 "popfl\n\t"
			 "cpuid\n\t"
			 "1: nop\n\t"
			 "nop\n\t"
			 "movl $1b, %0"
			 : "=r"(after_cpuid)
			 : "a"(0), "c"(0)
			 : "ebx", "edx", "memory");
	say("mb1test: conform step: %u #DB, at EIP %#x (CPUID ends at %#x)\n", conform_dbs, conform_db_eip, after_cpuid);
	check(conform_dbs == 1 && conform_db_eip == after_cpuid, "conform step: no single-step #DB right after CPUID");
}

static void conform_stephlt(void)
{
	/* The timer fires while the vCPU sits in HLT. Expected traps: after
	 * STI (at the HLT: STI blocking does not hold back #DB), after HLT
	 * (at the instruction after it), after PUSHF, AND and POPF. */
	mmio_write32(LAPIC + LAPIC_SVR, 0x1ff);
	mmio_write32(LAPIC + 0x3e0, 0xb);			/* divide by 1 */
	mmio_write32(LAPIC + 0x320, CONFORM_TIMER_VECTOR); /* one-shot */
	conform_dbs = 0;
	conform_timer_irqs = 0;
	conform_db_keep_tf = 1;
	/* Where each trap must point: the HLT, and the end of HLT, PUSHF, AND, POPF. */
	static volatile uint32_t at[5];
	__asm__ volatile("cli\n\t"
			 "movl $200000, 0xfee00380\n\t" /* TMICT: arm it */
			 "pushfl\n\t"
			 "orl $0x100, (%%esp)\n\t"
			 "popfl\n\t"
			 "sti\n\t"
			 "1: hlt\n\t"
			 "2: pushfl\n\t"
			 "3: andl $~0x100, (%%esp)\n\t"
			 "4: popfl\n\t"
			 "5: movl $1b, %0\n\t"
			 "movl $2b, %1\n\t"
			 "movl $3b, %2\n\t"
			 "movl $4b, %3\n\t"
			 "movl $5b, %4"
			 : "=m"(at[0]), "=m"(at[1]), "=m"(at[2]), "=m"(at[3]), "=m"(at[4])
			 :
			 : "memory");
	conform_db_keep_tf = 0;
	for (volatile unsigned i = 0; i < 1000000 && !conform_timer_irqs; i++)
		;
	__asm__ volatile("cli");
	say("mb1test: conform stephlt: %u #DB at %#x %#x %#x %#x %#x (expected %#x %#x %#x %#x %#x), %u timer interrupt(s)\n",
	    conform_dbs, conform_db_eips[0], conform_db_eips[1], conform_db_eips[2], conform_db_eips[3],
	    conform_db_eips[4], at[0], at[1], at[2], at[3], at[4], conform_timer_irqs);
	bool where = conform_dbs == 5;
	for (unsigned i = 0; i < 5; i++)
		where = where && conform_db_eips[i] == at[i];
	check(where, "conform stephlt: the single-step traps around STI;HLT are not where the architecture puts them");
	check(conform_timer_irqs == 1, "conform stephlt: the timer interrupt did not arrive");
}

/* Task switching: the GDT extended with three TSS descriptors. */
struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
};
static struct tss32 tss_main, tss_jmp, tss_call, tss_gp;
static uint64_t task_gdt[32];
static uint8_t task_stack[3][1024] __attribute__((aligned(16)));
static uint16_t sel_main, sel_jmp, sel_call, sel_gp;
volatile uint32_t task_ran[3], task_link, task_eflags, task_gp_error;

static uint64_t tss_desc(struct tss32 *t, unsigned type)
{
	uint32_t base = (uint32_t)(uintptr_t)t, limit = sizeof(*t) - 1;
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)(0x80 | type) << 40) |
	       ((uint64_t)(base >> 24) << 56);
}

static bool tss_busy(uint16_t sel) { return task_gdt[sel >> 3] & (1ULL << 41); }

/* The tasks' code. Each records that it ran and goes back: the JMP task
 * by a far JMP to the main TSS, the others by IRET through their link. */
__asm__(".text\n"
	"task_jmp_entry:\n"
	"	incl task_ran\n"
	"	ljmp *task_back\n"
	"task_call_entry:\n"
	"	incl task_ran+4\n"
	"	movzwl tss_call, %eax\n"
	"	movl %eax, task_link\n"
	"	pushfl\n"
	"	popl task_eflags\n"
	"	iret\n"
	"	jmp task_call_entry\n"
	"task_gp_entry:\n"
	"	incl task_ran+8\n"
	"	popl task_gp_error\n"
	"	addl $2, tss_main+32\n" /* past the faulting 2-byte MOV to ES */
	"	iret\n"
	"	jmp task_gp_entry\n");
extern char task_jmp_entry[], task_call_entry[], task_gp_entry[];
struct { uint32_t off; uint16_t sel; } __attribute__((packed)) task_back;

static void task_init(struct tss32 *t, void *entry, unsigned stack)
{
	uint16_t cs, ds;
	uint32_t cr3;
	__asm__ volatile("movw %%cs, %0; movw %%ds, %1; mov %%cr3, %2" : "=r"(cs), "=r"(ds), "=r"(cr3));
	memset(t, 0, sizeof(*t));
	t->eip = (uint32_t)(uintptr_t)entry;
	t->eflags = 0x2;
	t->esp = (uint32_t)(uintptr_t)(task_stack[stack] + sizeof(task_stack[stack]));
	t->cs = cs;
	t->es = t->ss = t->ds = t->fs = t->gs = ds;
	t->cr3 = cr3;
	t->iomap = sizeof(*t);
}

static void conform_task(void)
{
	/* A copy of the loader's GDT with the TSSes after it. */
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	unsigned n = (gdtr.limit + 1) / 8;
	if (n + 4 > sizeof(task_gdt) / sizeof(task_gdt[0])) {
		check(0, "conform task: the loader's GDT is too large to extend");
		return;
	}
	memcpy(task_gdt, (void *)(uintptr_t)gdtr.base, n * 8);
	sel_main = n * 8, sel_jmp = sel_main + 8, sel_call = sel_main + 16, sel_gp = sel_main + 24;
	memset(&tss_main, 0, sizeof(tss_main));
	tss_main.iomap = sizeof(tss_main);
	task_init(&tss_jmp, task_jmp_entry, 0);
	task_init(&tss_call, task_call_entry, 1);
	task_init(&tss_gp, task_gp_entry, 2);
	task_gdt[sel_main >> 3] = tss_desc(&tss_main, 0x9);
	task_gdt[sel_jmp >> 3] = tss_desc(&tss_jmp, 0x9);
	task_gdt[sel_call >> 3] = tss_desc(&tss_call, 0x9);
	task_gdt[sel_gp >> 3] = tss_desc(&tss_gp, 0x9);
	gdtr.limit = (uint16_t)((n + 4) * 8 - 1);
	gdtr.base = (uint32_t)(uintptr_t)task_gdt;
	__asm__ volatile("lgdt %0; ltr %1" ::"m"(gdtr), "r"(sel_main) : "memory");
	task_back.sel = sel_main;

	/* JMP there and back: EBX and ESI survive in the main TSS. */
	uint32_t ebx = 0x5eed1234, esi = 0xfeedbeef, ebx_after, esi_after;
	struct { uint32_t o; uint16_t s; } __attribute__((packed)) jmp_to = { 0, sel_jmp };
	__asm__ volatile("ljmp *%4" : "=b"(ebx_after), "=S"(esi_after) : "b"(ebx), "S"(esi), "m"(jmp_to) : "memory");
	say("mb1test: conform task: JMP task ran %u time(s), EBX %#x ESI %#x after, busy main %d jmp %d\n", task_ran[0],
	    ebx_after, esi_after, tss_busy(sel_main), tss_busy(sel_jmp));
	check(task_ran[0] == 1 && ebx_after == ebx && esi_after == esi, "conform task: the JMP round trip lost state");
	check(tss_busy(sel_main) && !tss_busy(sel_jmp), "conform task: busy bits wrong after JMP and back");

	/* CALL: the task sees NT and its link, IRET comes back. */
	struct { uint32_t o; uint16_t s; } __attribute__((packed)) call_to = { 0, sel_call };
	__asm__ volatile("lcall *%0" ::"m"(call_to) : "memory");
	say("mb1test: conform task: CALL task ran %u time(s), link %#x (main %#x), EFLAGS %#x, busy %d\n", task_ran[1],
	    task_link, sel_main, task_eflags, tss_busy(sel_call));
	check(task_ran[1] == 1 && task_link == sel_main && (task_eflags & (1u << 14)),
	      "conform task: the called task did not run nested (NT, back link)");
	check(!tss_busy(sel_call) && tss_busy(sel_main), "conform task: busy bits wrong after IRET");

	/* #GP through a task gate: its error code on the new task's stack. */
	uint64_t saved = idt[13];
	idt[13] = ((uint64_t)sel_gp << 16) | (0x85ULL << 40);
	__asm__ volatile("movw %w0, %%es" ::"r"(0x1234) : "memory");
	idt[13] = saved;
	uint16_t es;
	__asm__ volatile("movw %%es, %0" : "=r"(es));
	say("mb1test: conform task: #GP task ran %u time(s), error code %#x, ES %#x\n", task_ran[2], task_gp_error, es);
	check(task_ran[2] == 1 && task_gp_error == 0x1234, "conform task: #GP through the task gate lost its error code");
}

/* A table the RSDT lists, found as an OS finds it (ACPI 5.2.5.1). */
static const uint8_t *acpi_table(const char *sig)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)find_signature("RSD PTR ", 8);
	uint8_t sum = 0;
	for (unsigned i = 0; p && i < 20; i++)
		sum += p[i];
	if (!p || sum)
		return NULL;
	const uint8_t *rsdt = (const uint8_t *)(uintptr_t)*(const uint32_t *)(p + 16);
	uint32_t n = (*(const uint32_t *)(rsdt + 4) - 36) / 4;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)((const uint32_t *)(rsdt + 36))[i];
		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

static void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }

#define S3_RESUME_AT 0x8000u

static void conform_s3(bool poweroff)
{
	const uint8_t *fadt = acpi_table("FACP");
	check(fadt != NULL, "conform s3: no FADT (is the guest's acpi:pm on?)");
	if (!fadt)
		return;
	uint8_t *facs = (uint8_t *)(uintptr_t)*(const uint32_t *)(fadt + 36);
	uint16_t evt = (uint16_t)*(const uint32_t *)(fadt + 56), cnt = (uint16_t)*(const uint32_t *)(fadt + 64);
	say("mb1test: conform %s: FADT at %p, FACS at %p, PM1a event %#x, control %#x\n", poweroff ? "poweroff" : "s3",
	    (const void *)fadt, (void *)facs, evt, cnt);
	if (poweroff) {
		outw(cnt, (1u << 13) | (0u << 10)); /* SLP_EN, SLP_TYP 0 = \_S5 */
		for (volatile unsigned i = 0; i < 1000000; i++)
			;
		check(0, "conform poweroff: still running after S5");
		return;
	}
	/* The wake runs this in real mode: mov $0x5a, %al; out %al, $0xf4; hlt. */
	static const uint8_t stub[] = { 0xb0, 0x5a, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd };
	memcpy((void *)(uintptr_t)S3_RESUME_AT, stub, sizeof(stub));
	*(volatile uint32_t *)(facs + 12) = S3_RESUME_AT;
	/* The RTC alarm at every second (don't-care bytes), interrupts on. */
	static const uint8_t alarm_regs[] = { 1, 3, 5 };
	for (unsigned i = 0; i < 3; i++) {
		outb(0x70, alarm_regs[i]);
		outb(0x71, 0xc0);
	}
	outb(0x70, 0x0b);
	uint8_t b = inb(0x71);
	outb(0x70, 0x0b);
	outb(0x71, b | 0x20); /* AIE */
	outw(evt + 2, 1u << 10);	   /* PM1_EN: RTC_EN */
	outw(cnt, (1u << 13) | (1u << 10)); /* SLP_EN, SLP_TYP 1 = \_S3 */
	for (volatile unsigned i = 0; i < 1000000; i++)
		;
	check(0, "conform s3: still running after S3");
}

static void conform_nmihlt(void)
{
	mmio_write32(LAPIC + LAPIC_SVR, 0x1ff);
	mmio_write32(LAPIC + 0x3e0, 0xb);
	mmio_write32(LAPIC + 0x320, CONFORM_TIMER_VECTOR); /* one-shot */
	conform_nmis = conform_nmi_nested = conform_timer_irqs = conform_timer_at_wake = 0;
	conform_nmi_halt = 1;
	mmio_write32(LAPIC + LAPIC_ICR_LOW, ICR_SELF_NMI);
	conform_nmi_halt = 0;
	/* The timer handler's IRET ends NMI blocking, so the second NMI comes
	 * then, inside the first handler, as on hardware. */
	say("mb1test: conform nmihlt: timer interrupts when the halt ended %u, NMIs %u\n", conform_timer_at_wake,
	    conform_nmis);
	check(conform_timer_at_wake == 1, "conform nmihlt: the blocked NMI ended the halt, not the timer");
	check(conform_nmis == 2, "conform nmihlt: the second NMI was lost");
}

static void conform_testdev(void)
{
	__asm__ volatile("outl %0, %1" ::"a"(0x12345678u), "Nd"(0xe0));
	uint16_t hi;
	__asm__ volatile("inw %1, %0" : "=a"(hi) : "Nd"(0xe2));
	check(hi == 0x1234, "conform testdev: port 0xe2 did not read back the upper half of 0xe0's");
	mmio_write32(0xff000010, 0xcafef00d);
	uint32_t m = mmio_read32(0xff000010);
	check(m == 0xcafef00d, "conform testdev: the MMIO page at 0xff000000 did not read back");
	/* Line 3 (COM2's, unused) into the 8259A, everything masked. */
	outb(0x20, 0x11);
	outb(0x21, 0x30);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0x21, 0xff);
	outb(0x2003, 1);
	outb(0x20, 0x0a); /* OCW3: read IRR */
	uint8_t irr = inb(0x20);
	outb(0x2003, 0);
	say("mb1test: conform testdev: port 0xe2 %#x, MMIO %#x, IRR with line 3 raised %#x\n", hi, m, irr);
	check(irr & 8, "conform testdev: raising line 3 at port 0x2003 did not reach the 8259A");
}

static void conform_unclaimed(uint32_t ram_top)
{
	uint32_t above = ram_top + 0x100000; /* no RAM, no device there */
	uint32_t v = mmio_read32(above);
	mmio_write32(above, 0x12345678);
	uint32_t again = mmio_read32(above);
	uint8_t b = mmio_read8(above + 3);
	say("mb1test: conform unclaimed: %#x reads %#x, after a write %#x, byte %#x\n", above, v, again, b);
	check(v == 0xffffffffu && again == 0xffffffffu && b == 0xff, "conform unclaimed: above RAM is not all ones");
	/* The local APIC globally off: its page is nobody's. */
	uint64_t base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base & ~(1ULL << 11));
	uint32_t ver = mmio_read32(LAPIC + 0x30);
	mmio_write32(LAPIC + 0xb0, 0);
	say("mb1test: conform unclaimed: APIC off, 0xfee00030 reads %#x\n", ver);
	check(ver == 0xffffffffu, "conform unclaimed: the disabled local APIC's page is not all ones");
}

static uint32_t conform_ram_top;
static void conform_unclaimed_here(void) { conform_unclaimed(conform_ram_top); }
static void conform_s3_here(void) { conform_s3(false); }
static void conform_poweroff(void) { conform_s3(true); }

/* In the order they run (unclaimed disables the local APIC, s3 and
 * poweroff end the run). */
static const struct {
	const char *name;
	void (*run)(void);
} conform_cases[] = {
	{ "misc", conform_misc },	    { "rf", conform_rf },
	{ "nmi", conform_nmi },		    { "nmihlt", conform_nmihlt },
	{ "step", conform_step },	    { "stephlt", conform_stephlt },
	{ "task", conform_task },	    { "testdev", conform_testdev },
	{ "unclaimed", conform_unclaimed_here }, { "s3", conform_s3_here },
	{ "poweroff", conform_poweroff },
};

void conform_test(const char *what, uint32_t ram_top)
{
	idt_setup();
	conform_ram_top = ram_top;
	for (unsigned i = 0; i < sizeof(conform_cases) / sizeof(conform_cases[0]); i++) {
		const char *name = conform_cases[i].name;
		size_t n = strlen(name);
		int asked = 0;
		for (const char *p = what; *p;) {
			if (!strncmp(p, name, n) && (p[n] == '+' || p[n] == 0))
				asked = 1;
			while (*p && *p != '+')
				p++;
			if (*p == '+')
				p++;
		}
		if (!asked)
			continue;
		unsigned before = mb1test_failures();
		conform_cases[i].run();
		if (mb1test_failures() == before)
			say("mb1test: conform %s ok\n", name);
	}
}
