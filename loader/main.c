/*
 * hvmloader: runs inside the guest, 32-bit protected mode, paging off.
 * Firmware path: prepares what SeaBIOS's Xen path needs and returns to
 * start.S, which drops to real mode and jumps to F000:FFF0. Direct kernel
 * boot (a kernel in the start info): direct_boot.c loads the kernel and
 * never returns. All output goes to port 0xE9, which Keel prints with the
 * guest's prefix.
 */
#include <keel/format.h>
#include <keel/hvmloader_abi.h>
#include <keel/string.h>
#include <stdarg.h>

#include "direct_boot.h"
#include "e820.h"
#include "loader.h"
#include "seabios_info.h"
#include "smp_tables.h"
#include "start_info.h"

#define LOADER_VERSION "0.1"
#define DEBUG_PORT 0xe9
/* Scratch memory SeaBIOS reads until its platform set-up (it clears
 * 0x7000-0x90000 only at startBoot, and allocates there top-down). */
#define SCRATCH_E820 0x10000u
#define SCRATCH_TABLES 0x10400u
/* The MP floating pointer + configuration table and the ACPI RSDP: SeaBIOS
 * copies them into its F segment (xen_biostable_setup -> copy_table). */
#define SCRATCH_MP_FLOAT 0x10800u
#define SCRATCH_MP_CONFIG 0x10810u
#define SCRATCH_RSDP 0x10c00u
/* RSDT, XSDT and MADT stay in the last page of RAM, marked ACPI in the E820. */
#define ACPI_AREA_BYTES 0x1000u
#define E820_MAX 16

void loader_main(uint32_t magic, const struct hvmloader_start_info *si);

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }

void print(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	for (int i = 0; i < n; i++)
		outb(DEBUG_PORT, (uint8_t)buf[i]);
}

static __attribute__((noreturn)) void fail(const char *what)
{
	print("hvmloader: error: %s\nhvmloader: halted.\n", what);
	for (;;)
		__asm__ volatile("cli; hlt");
}

uint32_t keel_hypercall(uint32_t nr, uint32_t arg)
{
	uint32_t ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(arg) : "memory");
	return ret;
}

void e820_print(const struct e820_entry *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		print("hvmloader: e820 %08x%08x-%08x%08x %s\n", (unsigned)(e[i].start >> 32), (unsigned)e[i].start,
		      (unsigned)((e[i].start + e[i].size - 1) >> 32), (unsigned)(e[i].start + e[i].size - 1),
		      e[i].type == E820_RAM ? "RAM" : e[i].type == E820_ACPI ? "ACPI" : "reserved");
}

static void check_xen_signature(void)
{
	uint32_t a, sig[3];
	cpuid(0x40000000, &a, &sig[0], &sig[1], &sig[2]);
	if (memcmp(sig, "XenVMMXenVMM", 12) != 0)
		print("hvmloader: warning: no Xen signature in CPUID 0x40000000; SeaBIOS will not take its Xen path\n");
}

/* MP table and ACPI MADT: the vCPUs' APIC ids, the I/O APIC and the ISA
 * interrupt routing. SeaBIOS copies the MP table and the RSDP into its F
 * segment; RSDT/XSDT/MADT stay in the last page of RAM. */
static void build_smp_tables(const struct hvmloader_start_info *si, struct seabios_info *info)
{
	uint32_t acpi_pa = (uint32_t)si->ram_below_4g - ACPI_AREA_BYTES;
	struct smp_tables_at at = { SCRATCH_MP_FLOAT, SCRATCH_MP_CONFIG, SCRATCH_RSDP - SCRATCH_MP_CONFIG,
				    SCRATCH_RSDP,     acpi_pa,           ACPI_AREA_BYTES };
	if (smp_tables_build(&at, si->nr_vcpus, si->flags & HVMLOADER_FLAG_ACPI_PM) < 0)
		fail("cannot build the MP/ACPI tables for this vCPU count (1 to 8 supported)");
	uint32_t *tables = (uint32_t *)SCRATCH_TABLES;
	seabios_info_add_table(info, tables, SCRATCH_MP_FLOAT);
	seabios_info_add_table(info, tables, SCRATCH_RSDP);
}

void loader_main(uint32_t magic, const struct hvmloader_start_info *si)
{
	char err[200];
	uint32_t bios_start;
	if (start_info_check(magic, si, &bios_start, err, sizeof(err)) < 0)
		fail(err);
	char name[sizeof(si->guest_name) + 1];
	memcpy(name, si->guest_name, sizeof(si->guest_name));
	name[sizeof(si->guest_name)] = 0;
	print("hvmloader: Keel hvmloader %s, guest %s, %u MiB RAM, %u vCPU(s)\n", LOADER_VERSION, name,
	      (unsigned)(si->ram_below_4g >> 20), si->nr_vcpus);
	keel_hypercall(KEEL_HC_TIMELINE_MARK, KEEL_MARK_LOADER_START);

	if (si->kernel_size) {
		direct_boot(si, err, sizeof(err)); /* returns only on an error */
		fail(err);
	}
	uint64_t fw = si->firmware_paddr, fsize = si->firmware_size;
	check_xen_signature();

	struct e820_entry *e820 = (struct e820_entry *)SCRATCH_E820;
	unsigned n = e820_build(e820, E820_MAX, si->ram_below_4g, si->ram_above_4g, bios_start, ACPI_AREA_BYTES);
	if (!n)
		fail("cannot build an E820 map for this memory size");
	e820_print(e820, n);

	struct seabios_info *info = (struct seabios_info *)SEABIOS_INFO_ADDR;
	seabios_info_init(info, SCRATCH_TABLES, SCRATCH_E820, n);
	build_smp_tables(si, info);
	seabios_info_finish(info);

	memcpy((void *)bios_start, (const void *)(uintptr_t)fw, (size_t)fsize);
	print("hvmloader: SeaBIOS (%u KiB) at %#x-%#x\n", (unsigned)(fsize >> 10), bios_start, LOADER_BIOS_END - 1);
	print("hvmloader: invoking SeaBIOS at F000:FFF0\n");
	keel_hypercall(KEEL_HC_TIMELINE_MARK, KEEL_MARK_HANDOVER);
}
