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

#define LOADER_VERSION "0.1"
#define DEBUG_PORT 0xe9
/* Scratch memory SeaBIOS reads until its platform set-up (it clears
 * 0x7000-0x90000 only at startBoot, and allocates there top-down). */
#define SCRATCH_E820 0x10000u
#define SCRATCH_TABLES 0x10400u
#define E820_MAX 16
#define BIOS_END 0x100000u
#define BIOS_MAX 0x40000u

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

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static void check_xen_signature(void)
{
	uint32_t a, sig[3];
	cpuid(0x40000000, &a, &sig[0], &sig[1], &sig[2]);
	if (memcmp(sig, "XenVMMXenVMM", 12) != 0)
		print("hvmloader: warning: no Xen signature in CPUID 0x40000000; SeaBIOS will not take its Xen path\n");
}

void loader_main(uint32_t magic, const struct hvmloader_start_info *si)
{
	char err[200];

	if (magic != HVMLOADER_START_MAGIC || si->magic != HVMLOADER_START_MAGIC) {
		ksnprintf(err, sizeof(err), "bad start magic (EAX %#x, info %#x): not started by Keel?", magic,
			  si->magic);
		fail(err);
	}
	if (si->version != HVMLOADER_START_VERSION || si->size < sizeof(*si)) {
		ksnprintf(err, sizeof(err), "start info version %u size %u; this loader needs version %u (rebuild)",
			  si->version, si->size, HVMLOADER_START_VERSION);
		fail(err);
	}
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

	/* The SeaBIOS image: whole 64 KiB blocks, at most 256 KiB, staged in
	 * RAM away from where it must go. Keel checks too; we do not trust it. */
	uint64_t fw = si->firmware_paddr, fsize = si->firmware_size;
	if (fsize == 0 || fsize % 0x10000 || fsize > BIOS_MAX) {
		ksnprintf(err, sizeof(err),
			  "SeaBIOS image is %u bytes; expected a multiple of 64 KiB, at most 256 KiB (use "
			  "/usr/share/seabios/bios-256k.bin)",
			  (unsigned)fsize);
		fail(err);
	}
	uint32_t bios_start = BIOS_END - (uint32_t)fsize;
	if (fw + fsize > si->ram_below_4g || (fw < BIOS_END && fw + fsize > bios_start)) {
		ksnprintf(err, sizeof(err), "SeaBIOS staged at %#x (+%#x) is outside RAM or overlaps %#x-%#x",
			  (unsigned)fw, (unsigned)fsize, bios_start, BIOS_END);
		fail(err);
	}
	check_xen_signature();

	struct e820_entry *e820 = (struct e820_entry *)SCRATCH_E820;
	unsigned n = e820_build(e820, E820_MAX, si->ram_below_4g, si->ram_above_4g, bios_start);
	if (!n)
		fail("cannot build an E820 map for this memory size");
	for (unsigned i = 0; i < n; i++)
		print("hvmloader: e820 %08x%08x-%08x%08x %s\n", (unsigned)(e820[i].start >> 32), (unsigned)e820[i].start,
		      (unsigned)((e820[i].start + e820[i].size - 1) >> 32), (unsigned)(e820[i].start + e820[i].size - 1),
		      e820[i].type == E820_RAM ? "RAM" : "reserved");

	struct seabios_info *info = (struct seabios_info *)SEABIOS_INFO_ADDR;
	seabios_info_init(info, SCRATCH_TABLES, SCRATCH_E820, n);
	seabios_info_finish(info);

	memcpy((void *)bios_start, (const void *)(uintptr_t)fw, (size_t)fsize);
	print("hvmloader: SeaBIOS (%u KiB) at %#x-%#x\n", (unsigned)(fsize >> 10), bios_start, BIOS_END - 1);
	print("hvmloader: invoking SeaBIOS at F000:FFF0\n");
	keel_hypercall(KEEL_HC_TIMELINE_MARK, KEEL_MARK_JUMP_TO_BIOS);
}
