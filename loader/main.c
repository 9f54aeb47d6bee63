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
#include <keel/pci_regs.h>
#include <keel/string.h>
#include <stdarg.h>

#include "direct_boot.h"
#include "e820.h"
#include "loader.h"
#include "pci_setup.h"
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
static void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

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

/* Configuration mechanism #1: address to 0xCF8, data at 0xCFC + the
 * register's low two bits. */
static uint32_t pci_port_read(void *ctx, unsigned devfn, unsigned reg, unsigned size)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | devfn << 8 | (reg & 0xfc));
	uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (reg & 3));
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void pci_port_write(void *ctx, unsigned devfn, unsigned reg, unsigned size, uint32_t v)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | devfn << 8 | (reg & 0xfc));
	uint16_t port = (uint16_t)(PCI_CONFIG_DATA + (reg & 3));
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static void setup_pci(void)
{
	static struct pci_setup_result r;
	struct pci_config_ops ops = { pci_port_read, pci_port_write, NULL };
	pci_setup(&ops, &r);
	if (!r.nr_functions) {
		print("hvmloader: pci: no devices (ISA-only platform)\n");
		return;
	}
	for (unsigned i = 0; i < r.nr_functions; i++) {
		const struct pci_setup_function *f = &r.fn[i];
		print("hvmloader: pci 00:%02x.%x %04x:%04x class %04x", f->devfn >> 3, f->devfn & 7, f->vendor, f->device,
		      f->class);
		for (unsigned b = 0; b < PCI_SETUP_BARS; b++)
			if (f->bar[b])
				print(" bar%u %s %#x size %#x", b, (f->bar[b] & 1) ? "io" : "mem", f->bar[b] & ~0xfu,
				      f->bar_size[b]);
		if (f->line)
			print(" irq %u", f->line);
		print("\n");
	}
	print("hvmloader: pci: PIRQ A-D -> IRQ %u, %u, %u, %u\n", r.pirq[0], r.pirq[1], r.pirq[2], r.pirq[3]);
	if (r.unassigned)
		print("hvmloader: pci: warning: %u BAR(s) left unassigned (no room in the windows)\n", r.unassigned);
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
	      (unsigned)((si->ram_below_4g + si->ram_above_4g) >> 20), si->nr_vcpus);
	keel_hypercall(KEEL_HC_TIMELINE_MARK, KEEL_MARK_LOADER_START);

	if (si->kernel_size) {
		direct_boot(si, err, sizeof(err)); /* returns only on an error */
		fail(err);
	}
	uint64_t fw = si->firmware_paddr, fsize = si->firmware_size;
	check_xen_signature();
	setup_pci();

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
