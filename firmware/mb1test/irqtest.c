/*
 * irqtest: counts the PIT's interrupts (channel 0 at 250 Hz) for 100 ms of
 * TSC time, through the path an OS picks: the 8259A (virtual wire, as a
 * uniprocessor boot leaves it), or the I/O APIC input 2 (where the MP table
 * and the MADT's override say IRQ 0 is) to the local APIC in logical flat
 * or physical destination mode, the 8259A masked, as Linux's check_timer
 * sets it up. The TSC rate comes from CPUID 0x15, as a kernel reads it.
 */
#include <keel/string.h>

#include "mb1test.h"

#define VECTOR 0x30
#define LAPIC 0xfee00000u
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_LDR 0xd0
#define LAPIC_DFR 0xe0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT0 0x350
#define IOAPIC 0xfec00000u
#define IOAPIC_RTE_LOW(pin) (0x10 + 2 * (pin))
#define PIT_HZ 1193182u
#define TICK_HZ 250u
#define WAIT_MS 100u

volatile uint32_t irq_ticks, irq_exception;

/* The stubs: vector 0x30 counts and acknowledges at both controllers (the
 * one that did not deliver ignores it), 0-31 record the exception and halt,
 * the rest (spurious) return. */
__asm__(".text\n"
	"irq_tick_stub:\n"
	"	pushl %eax\n"
	"	incl irq_ticks\n"
	"	movl $0, " "0xfee000b0" "\n"
	"	movb $0x20, %al\n"
	"	outb %al, $0x20\n"
	"	popl %eax\n"
	"	iret\n"
	"irq_exception_stub:\n"
	"	movl $1, irq_exception\n"
	"	cli\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	"irq_spurious_stub:\n"
	"	iret\n");
extern char irq_tick_stub[], irq_exception_stub[], irq_spurious_stub[];

static uint64_t idt[256];

static uint64_t gate(void *handler)
{
	uint32_t off = (uint32_t)(uintptr_t)handler;
	uint16_t cs;
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	/* 32-bit interrupt gate, DPL 0, present. */
	return (uint64_t)(off & 0xffff) | ((uint64_t)cs << 16) | (0x8e00ULL << 32) | ((uint64_t)(off >> 16) << 48);
}

static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(uintptr_t)(LAPIC + reg) = v; }

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC + 0x10) = v;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* CPUID 0x15: TSC = crystal (ECX, Hz) x EBX / EAX; 0 if not stated. */
static uint64_t tsc_hz(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	if (a < 0x15)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x15), "c"(0));
	return a && b && c ? (uint64_t)c * b / a : 0;
}

static void pic_init(uint8_t master_mask)
{
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(0x21, VECTOR); /* ICW2: IRQ 0-7 at 0x30 */
	outb(0x21, 0x04); /* ICW3: slave on IRQ 2 */
	outb(0x21, 0x01); /* ICW4: 8086 mode */
	outb(0x21, master_mask);
	outb(0xa1, 0xff);
}

void irq_test(const char *mode)
{
	uint64_t hz = tsc_hz();
	check(hz != 0, "irqtest: CPUID 0x15 states no TSC rate");
	if (!hz)
		return;
	for (unsigned v = 0; v < 256; v++)
		idt[v] = gate(v < 32 ? irq_exception_stub : v == VECTOR ? irq_tick_stub : irq_spurious_stub);
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(idtr));

	uint16_t div = PIT_HZ / TICK_HZ;
	int pic = !strcmp(mode, "pic");
	pic_init(pic ? 0xfe : 0xff); /* IRQ 0 only, or nothing */
	outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
	outb(0x40, div & 0xff);
	outb(0x40, div >> 8);
	if (!pic) {
		int logical = !strcmp(mode, "ioapic-logical");
		check(logical || !strcmp(mode, "ioapic-physical"), "irqtest: unknown mode");
		/* As in Linux's check_timer: the PIT runs and its IRQ 0 waits,
		 * masked, in the 8259A before the I/O APIC input is opened
		 * (by MMIO only, no port access after it). */
		uint64_t t0 = rdtsc();
		while (rdtsc() - t0 < hz / 50)
			__asm__ volatile("pause");
		lapic_write(LAPIC_SVR, 0x1ff); /* software enable, spurious vector 0xff */
		lapic_write(LAPIC_DFR, 0xffffffffu); /* flat model */
		lapic_write(LAPIC_LDR, 1u << 24);
		lapic_write(LAPIC_TPR, 0);
		lapic_write(LAPIC_LVT0, 0x10700); /* ExtINT, masked: no 8259A */
		ioapic_write(IOAPIC_RTE_LOW(2) + 1, logical ? 1u << 24 : 0); /* destination: CPU 0 */
		ioapic_write(IOAPIC_RTE_LOW(2), VECTOR | (logical ? 1u << 11 : 0)); /* fixed, edge, unmasked */
	}

	irq_ticks = 0;
	uint64_t start = rdtsc(), wait = hz * WAIT_MS / 1000;
	__asm__ volatile("sti");
	while (rdtsc() - start < wait && !irq_exception)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	uint32_t n = irq_ticks;
	say("mb1test: irqtest %s: %u PIT interrupts in %u ms (TSC %u kHz)\n", mode, n, WAIT_MS, (unsigned)(hz / 1000));
	check(!irq_exception, "irqtest: an exception");
	/* 25 when the guest has a CPU to itself; guests sharing one get fewer,
	 * since Keel coalesces the ticks a descheduled guest missed. None at
	 * all means the path is broken; more than 30, a storm. */
	check(n >= 5 && n <= 30, "irqtest: PIT interrupt count not between 5 and 30 (25 expected alone)");
}
