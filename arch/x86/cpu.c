/* Descriptor tables and CPU identification for each physical CPU. */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/io.h>

struct pcpu pcpus[MAX_CPUS];

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __packed;

static struct idt_gate idt[256] __aligned(16);
extern const uint64_t isr_table[33];

/* Separate stacks for faults that mean the normal stack is unusable
 * (double fault, NMI, machine check): SDM 6.14.5 interrupt stack table. */
static uint8_t ist_stacks[MAX_CPUS][3][4096] __aligned(16);

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

void cpu_tables_init(struct pcpu *c)
{
	memset(&c->tss, 0, sizeof(c->tss));
	for (int i = 0; i < 3; i++)
		c->tss.ist[i] = (uint64_t)(uintptr_t)&ist_stacks[c->id][i][4096];
	c->tss.iomap_base = sizeof(c->tss); /* no I/O bitmap */

	uint64_t tss = (uint64_t)(uintptr_t)&c->tss;
	uint64_t limit = sizeof(c->tss) - 1;
	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code, DPL 0 */
	c->gdt[2] = 0x00cf92000000ffffULL; /* data */
	/* 64-bit TSS descriptor: type 9 (available), present. */
	c->gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
		    (((tss >> 24) & 0xff) << 56);
	c->gdt[4] = tss >> 32;

	struct desc_ptr gdtr = { sizeof(c->gdt) - 1, (uint64_t)(uintptr_t)c->gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(GDT_CODE64), "r"(GDT_DATA), "r"(GDT_TSS)
			 : "rax", "memory");
}

static void idt_set(int vec, uint64_t handler, int ist)
{
	idt[vec].off_lo = handler & 0xffff;
	idt[vec].sel = GDT_CODE64;
	idt[vec].ist = ist;
	idt[vec].type = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
	idt[vec].off_mid = (handler >> 16) & 0xffff;
	idt[vec].off_hi = handler >> 32;
	idt[vec].reserved = 0;
}

void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, isr_table[v < 32 ? v : 32], 0);
	idt_set(X86_EXC_NMI, isr_table[X86_EXC_NMI], 1);
	idt_set(X86_EXC_DF, isr_table[X86_EXC_DF], 2);
	idt_set(X86_EXC_MC, isr_table[X86_EXC_MC], 3);
}

void idt_load(void)
{
	struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void cpu_identify(struct cpu_info *ci)
{
	uint32_t a, b, c, d;

	memset(ci, 0, sizeof(*ci));
	cpuid(0, &a, &b, &c, &d);
	memcpy(ci->vendor + 0, &b, 4);
	memcpy(ci->vendor + 4, &d, 4);
	memcpy(ci->vendor + 8, &c, 4);
	ci->intel = !strcmp(ci->vendor, "GenuineIntel");

	cpuid(1, &a, &b, &c, &d);
	unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
	if (fam == 0xf)
		fam += (a >> 20) & 0xff;
	if (fam == 0x6 || fam >= 0xf)
		model |= ((a >> 16) & 0xf) << 4;
	ci->family = fam;
	ci->model = model;
	ci->stepping = a & 0xf;

	cpuid(0x80000000, &a, &b, &c, &d);
	uint32_t max_ext = a;
	if (max_ext >= 0x80000004) {
		uint32_t *p = (uint32_t *)ci->brand;
		for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; leaf++, p += 4)
			cpuid(leaf, &p[0], &p[1], &p[2], &p[3]);
		ci->brand[48] = 0;
	}
	if (max_ext >= 0x80000007) {
		cpuid(0x80000007, &a, &b, &c, &d);
		ci->invariant_tsc = d & CPUID_80000007_EDX_INVARIANT_TSC;
	}
	/* Brand strings are often right-justified with leading spaces. */
	char *s = ci->brand;
	while (*s == ' ')
		s++;
	memmove(ci->brand, s, strlen(s) + 1);
}
