/*
 * mb1test: a multiboot1 kernel that checks what its loader gave it and
 * says so on COM1, then does what its command line asks:
 *
 *   exit=N         end through QEMU's isa-debug-exit port 0xF4 (status 2N+1)
 *   reset=cf9|kbc|triple   on its first boot, reset the machine that way;
 *                  a boot counter in CMOS NVRAM tells the boots apart
 *   (both)         reset first, exit after the restart
 *   conform=NAME[+NAME...]   hardware behaviours Keel's fixes for
 *                  kvm-unit-tests restored (conform.c), before irqtest=
 *   irqtest=ioapic-logical|ioapic-physical|pic   count PIT interrupts
 *                  through that path (irqtest.c), before exit=
 *   highmem=1      the memory map must list RAM at 4 GiB; write and read
 *                  it back (highmem.c)
 *   apictest=1     the local APIC: self-IPIs, priorities, TPR, EOI, timer
 *                  modes, a level-triggered I/O APIC input (apictest.c)
 *   x2apictest=N|off   the local APIC in x2APIC mode, N vCPUs (the second
 *                  started and sent IPIs), or off: x2APIC must be hidden
 *                  (x2apictest.c)
 *
 * Each check prints "mb1test: FAIL <what>" and ends with exit code 0x7f
 * (status 255) when it does not hold; the boot tests assert on the lines.
 */
#include <keel/format.h>
#include <keel/string.h>
#include <stdarg.h>
#include <stdint.h>

#include "../common/cmdline_arg.h"

#include "mb1test.h"
#include "multiboot1.h"

#define COM1 0x3f8
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_BOOT_COUNTER 0x7e /* an unused NVRAM byte */
#define EXIT_PORT 0xf4
#define FAIL_CODE 0x7f

/* The BIOS-area tables a kernel looks for (MP spec 4, ACPI 5.2.5.1): the
 * 16-byte-aligned signature in 0xE0000-0xFFFFF, 0 if absent. */
uint32_t find_signature(const char *sig, unsigned len)
{
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp((const void *)(uintptr_t)a, sig, len))
			return a;
	return 0;
}

/* The enabled processor entries (type 0, 20 bytes; the others are 8) of
 * the MP configuration table the floating pointer at fp points to. */
static unsigned mp_enabled_cpus(uint32_t fp)
{
	const uint8_t *cfg = (const uint8_t *)(uintptr_t)*(const uint32_t *)(uintptr_t)(fp + 4);
	if (!cfg || memcmp(cfg, "PCMP", 4))
		return 0;
	unsigned count = *(const uint16_t *)(cfg + 34), cpus = 0;
	const uint8_t *e = cfg + 44;
	for (unsigned i = 0; i < count; i++) {
		if (e[0] == 0) {
			cpus += e[3] & 1;
			e += 20;
		} else {
			e += 8;
		}
	}
	return cpus;
}

void mb1test_main(uint32_t magic, const struct mb1_info *info);

static void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }

static void putc_com1(char c)
{
	while (!(inb(COM1 + 5) & 0x20)) /* LSR.THRE */
		;
	outb(COM1, (uint8_t)c);
}

void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (int i = 0; i < n && i < (int)sizeof(buf) - 1; i++) {
		if (buf[i] == '\n')
			putc_com1('\r');
		putc_com1(buf[i]);
	}
}

static __attribute__((noreturn)) void exit_with(uint8_t code)
{
	say("mb1test: exit %u through port 0xf4\n", code);
	outb(EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static unsigned failures;
unsigned mb1test_failures(void) { return failures; }
void check(int ok, const char *what)
{
	if (!ok) {
		say("mb1test: FAIL %s\n", what);
		failures++;
	}
}

static void fwcfg_read(uint16_t key, void *buf, unsigned len)
{
	outw(FW_CFG_SEL, key);
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)buf)[i] = inb(FW_CFG_DATA);
}

static uint8_t cmos_read(uint8_t idx)
{
	outb(CMOS_INDEX, idx);
	return inb(CMOS_DATA);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	outb(CMOS_INDEX, idx);
	outb(CMOS_DATA, v);
}


static void triple_fault(void)
{
	/* An empty IDT: the breakpoint cannot be delivered, nor the #GP,
	 * nor the #DF: the CPU shuts down. */
	static const struct { uint16_t limit; uint32_t base; } __attribute__((packed)) no_idt = { 0, 0 };
	__asm__ volatile("lidt %0; int3" ::"m"(no_idt));
}

void mb1test_main(uint32_t magic, const struct mb1_info *info)
{
	say("mb1test: started, EAX %#x, EBX %#x\n", magic, (unsigned)(uintptr_t)info);
	if (magic != MB1_BOOTLOADER_MAGIC) {
		say("mb1test: FAIL EAX is not 0x2badb002\n");
		exit_with(FAIL_CODE);
	}
	uint32_t flags = info->flags;
	check(flags & MB1_INFO_MEMORY, "flags: no mem_lower/mem_upper (bit 0)");
	check(flags & MB1_INFO_MEM_MAP, "flags: no memory map (bit 6)");

	/* The RAM size from fw_cfg, as QEMU's test kernels read it. */
	char sig[4];
	uint64_t ram = 0;
	uint16_t cpus = 0, max_cpus = 0;
	fwcfg_read(FW_CFG_SIGNATURE, sig, 4);
	check(!memcmp(sig, "QEMU", 4), "fw_cfg signature is not QEMU");
	fwcfg_read(FW_CFG_RAM_SIZE, &ram, 8);
	fwcfg_read(FW_CFG_NB_CPUS, &cpus, 2);
	fwcfg_read(FW_CFG_MAX_CPUS, &max_cpus, 2);
	say("mb1test: fw_cfg ram %u MiB, cpus %u, max_cpus %u\n", (unsigned)(ram >> 20), cpus, max_cpus);

	/* Every vCPU fw_cfg counts is in the MP table, and there is an RSDP. */
	uint32_t mp = find_signature("_MP_", 4), rsdp = find_signature("RSD PTR ", 8);
	unsigned mp_cpus = mp ? mp_enabled_cpus(mp) : 0;
	say("mb1test: MP floating pointer at %#x, %u CPU(s) in its table; ACPI RSDP at %#x\n", mp, mp_cpus, rsdp);
	check(mp_cpus == cpus, "the MP table's CPU count is not fw_cfg's");
	check(rsdp != 0, "no ACPI RSDP in 0xE0000-0xFFFFF");

	/* mem_lower/mem_upper and the map must agree with each other and
	 * with the RAM size. */
	say("mb1test: mem_lower %u KiB, mem_upper %u KiB\n", info->mem_lower, info->mem_upper);
	check(info->mem_lower == 640, "mem_lower is not 640");
	uint64_t map_ram = 0, high_base = 0, high_len = 0;
	int upper_seen = 0;
	for (uint32_t off = 0; off < info->mmap_length;) {
		const struct mb1_mmap_entry *e = (const void *)(uintptr_t)(info->mmap_addr + off);
		say("mb1test: mmap %08x%08x-%08x%08x type %u\n", (unsigned)(e->addr >> 32), (unsigned)e->addr,
		    (unsigned)((e->addr + e->len - 1) >> 32), (unsigned)(e->addr + e->len - 1), e->type);
		if (e->type == 1)
			map_ram += e->len;
		if (e->type == 1 && e->addr == 0x100000 && e->len == (uint64_t)info->mem_upper * 1024)
			upper_seen = 1;
		if (e->type == 1 && e->addr >= 0x100000000ULL) {
			high_base = e->addr;
			high_len = e->len;
		}
		off += e->size + 4;
	}
	/* mem_upper ends at the first hole; RAM past the MMIO hole is in the
	 * map only, and in CMOS 0x5B-0x5D (64 KiB units) as SeaBIOS reads it. */
	uint64_t cmos_high = (uint64_t)cmos_read(0x5b) << 16 | (uint64_t)cmos_read(0x5c) << 24 |
			     (uint64_t)cmos_read(0x5d) << 32;
	check((uint64_t)info->mem_upper * 1024 + 0x100000 + high_len == ram,
	      "mem_upper + 1 MiB + the RAM at 4 GiB is not fw_cfg's RAM size");
	check(upper_seen, "no map entry matches mem_upper");
	check(map_ram == ram - 0x60000, "map RAM is not RAM minus the 384 KiB hole");
	check(cmos_high == high_len, "CMOS 0x5B-0x5D do not give the map's RAM above 4 GiB");
	check(!high_len || high_base == 0x100000000ULL, "RAM above 4 GiB does not start at 4 GiB");

	const char *cmdline = (flags & MB1_INFO_CMDLINE) ? (const char *)(uintptr_t)info->cmdline : "";
	if (flags & MB1_INFO_LOADER_NAME)
		say("mb1test: loader '%s'\n", (const char *)(uintptr_t)info->boot_loader_name);
	if (flags & MB1_INFO_MODS) {
		for (uint32_t i = 0; i < info->mods_count; i++) {
			const struct mb1_module *m = (const void *)(uintptr_t)(info->mods_addr + 16 * i);
			char head[33];
			uint32_t n = m->mod_end - m->mod_start < 32 ? m->mod_end - m->mod_start : 32;
			memcpy(head, (const void *)(uintptr_t)m->mod_start, n);
			head[n] = 0;
			for (uint32_t j = 0; j < n; j++)
				if (head[j] == '\n')
					head[j] = 0;
			say("mb1test: module '%s' %#x-%#x (%u bytes) begins '%s'\n", (const char *)(uintptr_t)m->string,
			    m->mod_start, m->mod_end, m->mod_end - m->mod_start, head);
			check(!(m->mod_start & 0xfff), "module not page-aligned (header flag 0)");
		}
	}

	uint8_t boot = cmos_read(CMOS_BOOT_COUNTER);
	cmos_write(CMOS_BOOT_COUNTER, (uint8_t)(boot + 1));
	say("mb1test: boot %u\n", boot + 1);
	say("mb1test: ok mem_upper=%u cmdline='%s'\n", info->mem_upper, cmdline);
	if (failures)
		exit_with(FAIL_CODE);

	char reset[16], code[8];
	cmdline_arg(cmdline, "reset", reset, sizeof(reset));
	cmdline_arg(cmdline, "exit", code, sizeof(code));
	if (reset[0] && boot == 0) {
		say("mb1test: resetting by %s\n", reset);
		if (!strcmp(reset, "cf9"))
			outb(0xcf9, 0x06); /* SYS_RST | RST_CPU */
		else if (!strcmp(reset, "kbc"))
			outb(0x64, 0xfe);  /* pulse the reset line */
		else if (!strcmp(reset, "triple"))
			triple_fault();
		say("mb1test: FAIL still running after the reset request\n");
		exit_with(FAIL_CODE);
	}
	if (reset[0])
		say("mb1test: restarted after the reset\n");
	char highmem[4];
	cmdline_arg(cmdline, "highmem", highmem, sizeof(highmem));
	if (highmem[0]) {
		check(high_len != 0, "highmem=1 but the memory map has no RAM above 4 GiB");
		if (high_len)
			highmem_test(high_base, high_len);
		if (failures)
			exit_with(FAIL_CODE);
	}
	char conform[128];
	cmdline_arg(cmdline, "conform", conform, sizeof(conform));
	if (conform[0]) {
		conform_test(conform, info->mem_upper * 1024 + 0x100000); /* the top of RAM below 4 GiB */
		if (failures)
			exit_with(FAIL_CODE);
	}
	char irq[24];
	cmdline_arg(cmdline, "irqtest", irq, sizeof(irq));
	if (irq[0]) {
		irq_test(irq);
		if (failures)
			exit_with(FAIL_CODE);
	}
	char apic[4];
	cmdline_arg(cmdline, "apictest", apic, sizeof(apic));
	if (apic[0]) {
		apic_test();
		if (failures)
			exit_with(FAIL_CODE);
	}
	char x2[4];
	cmdline_arg(cmdline, "x2apictest", x2, sizeof(x2));
	if (x2[0]) {
		x2apic_test(x2);
		if (failures)
			exit_with(FAIL_CODE);
	}
	if (code[0]) {
		unsigned v = 0;
		for (const char *p = code; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (unsigned)(*p - '0');
		exit_with((uint8_t)v);
	}
	say("mb1test: halting\n");
}
