/*
 * Direct kernel boot (guest=...,kernel:MODULE): hvmloader recognises the
 * kernel Keel staged at the top of guest RAM, plans where each piece goes,
 * writes the boot information into low memory and hands over to the
 * trampoline, which moves the pieces and enters the kernel.
 *
 * Everything here runs inside the guest, on bytes the guest's owner gave
 * Keel: a hostile image can at worst break this guest's own boot. Each
 * address is still checked before it is used, so that a bad image ends in
 * a clear message instead of a silent mess.
 */
#include <keel/format.h>
#include <keel/kernel_image.h>
#include <keel/string.h>

#include "direct_boot.h"
#include "e820.h"
#include "linux.h"
#include "loader.h"
#include "multiboot1.h"
#include "smp_tables.h"

#define ONE_MIB 0x100000u
#define PAGE 0x1000u
#define VGA_HOLE 0xa0000u /* reserved 0xA0000-0xFFFFF: no BIOS, but a PC's map */
/* No BIOS owns 0xF0000-0xFFFFF here, and it is where kernels scan for the
 * MP floating pointer and the ACPI RSDP (MP spec 4; ACPI 5.2.5.1): the
 * whole set of tables goes there, reserved in the E820 like a BIOS's. */
static const struct smp_tables_at direct_tables_at = {
	.mp_float = 0xf0000, .mp_config = 0xf0010, .mp_config_max = 0x3f0,
	.rsdp = 0xf0400, .acpi = 0xf1000, .acpi_max = 0x1000,
};
#define E820_MAX 8

extern const char trampoline_start[], trampoline_end[];

static struct e820_entry e820[E820_MAX];
static unsigned e820_nr;

struct staged {
	const struct hvmloader_start_info *si;
	uint32_t ram_top;
	uint32_t kernel, kernel_size, ramdisk, ramdisk_size;
	const char *cmdline;
	char kname[33], rname[33];
};

static int fits(uint64_t start, uint64_t size, uint64_t lo, uint64_t hi)
{
	return start >= lo && size <= hi - lo && start - lo <= hi - lo - size;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* The staged images, checked against the ABI (hvmloader_abi.h). */
static int check_staged(const struct hvmloader_start_info *si, struct staged *s, char *err, unsigned errlen)
{
	memset(s, 0, sizeof(*s));
	s->si = si;
	memcpy(s->kname, si->kernel_name, 32);
	memcpy(s->rname, si->ramdisk_name, 32);
	if (si->ram_below_4g > 0xffffffffULL) {
		ksnprintf(err, errlen, "RAM size %#llx is beyond 4 GiB", (unsigned long long)si->ram_below_4g);
		return -1;
	}
	s->ram_top = (uint32_t)si->ram_below_4g;
	if (!fits(si->kernel_paddr, si->kernel_size, HVMLOADER_STAGING_ADDR, s->ram_top) || !si->kernel_size ||
	    (si->ramdisk_size && !fits(si->ramdisk_paddr, si->ramdisk_size, HVMLOADER_STAGING_ADDR, s->ram_top)) ||
	    overlaps(si->kernel_paddr, si->kernel_size, si->ramdisk_paddr, si->ramdisk_size)) {
		ksnprintf(err, errlen, "start info: kernel %#llx+%#llx / ramdisk %#llx+%#llx are not inside RAM "
				       "above %#x, apart",
			  (unsigned long long)si->kernel_paddr, (unsigned long long)si->kernel_size,
			  (unsigned long long)si->ramdisk_paddr, (unsigned long long)si->ramdisk_size,
			  HVMLOADER_STAGING_ADDR);
		return -1;
	}
	s->kernel = (uint32_t)si->kernel_paddr;
	s->kernel_size = (uint32_t)si->kernel_size;
	s->ramdisk = (uint32_t)si->ramdisk_paddr;
	s->ramdisk_size = (uint32_t)si->ramdisk_size;
	s->cmdline = "";
	if (si->cmdline_paddr) {
		const char *c = (const char *)HVMLOADER_CMDLINE_ADDR;
		if (si->cmdline_paddr != HVMLOADER_CMDLINE_ADDR || si->cmdline_size == 0 ||
		    si->cmdline_size > HVMLOADER_CMDLINE_MAX || c[si->cmdline_size - 1] != 0) {
			ksnprintf(err, errlen, "start info: the command line at %#llx (%u bytes) is not where the ABI "
					       "puts it, or not NUL-terminated",
				  (unsigned long long)si->cmdline_paddr, si->cmdline_size);
			return -1;
		}
		s->cmdline = c;
	}
	e820_nr = e820_build(e820, E820_MAX, si->ram_below_4g, si->ram_above_4g, VGA_HOLE, 0);
	if (!e820_nr) {
		ksnprintf(err, errlen, "cannot build an E820 map for this memory size");
		return -1;
	}
	return 0;
}

/* The lowest staged byte: every piece's final place must be below it, so
 * that the trampoline never overwrites a source it has yet to copy. */
static uint32_t staged_low(const struct staged *s)
{
	return s->ramdisk_size && s->ramdisk < s->kernel ? s->ramdisk : s->kernel;
}

/* Where the trampoline (with its stack below and its plan after it) and
 * the boot information go in low memory: the usual place, or, for a
 * kernel that wants that memory, the first of the others it leaves free. */
struct low_area {
	uint32_t trampoline, info;
};
static const struct low_area low_areas[] = {
	{ TRAMPOLINE_ADDR, DIRECT_INFO_ADDR },
	{ 0x91000, 0x98000 }, /* just below 640 KiB */
	{ 0x2000, 0x3000 },   /* just above the real-mode IVT and BIOS data area */
};
static const struct low_area *low_area = &low_areas[0];

static const struct low_area *low_area_free_of(const struct direct_plan *p)
{
	for (unsigned a = 0; a < ARRAY_SIZE(low_areas); a++) {
		const struct low_area *l = &low_areas[a];
		int free = 1;
		for (unsigned i = 0; i < p->nr && free; i++) {
			uint64_t len = (uint64_t)p->copy[i].len + p->copy[i].zero;
			if (overlaps(p->copy[i].dst, len, l->trampoline - TRAMPOLINE_STACK,
				     TRAMPOLINE_STACK + TRAMPOLINE_AREA_END) ||
			    overlaps(p->copy[i].dst, len, l->info, DIRECT_INFO_SIZE))
				free = 0;
		}
		if (free)
			return l;
	}
	return NULL;
}

static int plan_multiboot1(struct staged *s, struct direct_plan *p, char *err, unsigned errlen)
{
	const uint8_t *img = (const uint8_t *)(uintptr_t)s->kernel;
	struct mb1_kernel k;
	char why[160];
	if (mb1_parse(img, s->kernel_size, &k, why, sizeof(why)) < 0) {
		ksnprintf(err, errlen, "kernel '%s' %s", s->kname, why);
		return -1;
	}
	for (unsigned i = 0; i < k.nr_segments; i++) {
		const struct mb1_segment *g = &k.seg[i];
		/* Conventional RAM (above the real-mode IVT and BIOS data
		 * area's page) or RAM from 1 MiB up to the staged images, as
		 * GRUB and QEMU load a kernel wherever RAM is free. */
		if (!fits(g->paddr, g->mem_len, PAGE, VGA_HOLE) && !fits(g->paddr, g->mem_len, ONE_MIB, staged_low(s))) {
			ksnprintf(err, errlen, "kernel '%s' wants %#x-%#x, outside the RAM free for it (%#x-%#x and "
					       "%#x-%#x); give the guest more memory (mem:) if it is above 1 MiB",
				  s->kname, g->paddr, g->paddr + g->mem_len, PAGE, VGA_HOLE, ONE_MIB, staged_low(s));
			return -1;
		}
		p->copy[p->nr++] = (struct direct_copy){ g->paddr, s->kernel + g->file_off, g->file_len,
							 g->mem_len - g->file_len };
	}
	low_area = low_area_free_of(p);
	if (!low_area) {
		ksnprintf(err, errlen, "kernel '%s' leaves no room below 640 KiB for the loader's %u KiB of boot "
				       "information and trampoline",
			  s->kname, (DIRECT_INFO_SIZE + TRAMPOLINE_STACK + TRAMPOLINE_AREA_END) >> 10);
		return -1;
	}
	if (low_area != &low_areas[0])
		print("hvmloader: kernel '%s' uses low memory: boot information at %#x, trampoline at %#x\n", s->kname,
		      low_area->info, low_area->trampoline);
	memset((void *)(uintptr_t)low_area->info, 0, DIRECT_INFO_SIZE);
	print("hvmloader: kernel '%s': multiboot1 %s kernel, %u segment(s) at %#x-%#x, entry %#x\n", s->kname,
	      k.aout_kludge ? "a.out-kludge" : "ELF", k.nr_segments, k.lowest, k.highest - 1, k.entry);

	/* The command line starts with the kernel's name, as GRUB and QEMU
	 * give it (kvm-unit-tests reads argv[1] from the second word). */
	struct mb1_boot b = { e820, e820_nr, s->kname, s->cmdline, 0, 0, s->rname, "Keel hvmloader" };
	if (s->ramdisk_size) {
		b.mod_start = s->ramdisk;
		b.mod_end = s->ramdisk + s->ramdisk_size;
		print("hvmloader: module '%s' at %#x-%#x\n", s->rname, b.mod_start, b.mod_end - 1);
	}
	if (!mb1_info_build((uint8_t *)(uintptr_t)low_area->info, DIRECT_INFO_SIZE, low_area->info, &b)) {
		ksnprintf(err, errlen, "the multiboot1 information does not fit in %#x bytes", DIRECT_INFO_SIZE);
		return -1;
	}
	p->entry = k.entry;
	p->eax = MB1_BOOTLOADER_MAGIC;
	p->ebx = low_area->info;
	return 0;
}

/* Puts the initrd below initrd_addr_max and outside the kernel's
 * footprint, moving it down from the top of RAM if it must. */
static int place_initrd(struct staged *s, const struct linux_kernel *k, uint32_t footprint_end, char *err,
			unsigned errlen)
{
	uint64_t limit = (uint64_t)k->initrd_addr_max + 1;
	if (limit > s->ram_top)
		limit = s->ram_top;
	if (s->ramdisk + (uint64_t)s->ramdisk_size <= limit && s->ramdisk >= footprint_end)
		return 0; /* where Keel put it is fine (the usual case) */
	uint64_t end = limit;
	if (overlaps(s->kernel, s->kernel_size, 0, end) && end > s->kernel)
		end = s->kernel; /* stay clear of the staged kernel, still to be copied */
	uint64_t start = (end - s->ramdisk_size) & ~(uint64_t)(PAGE - 1);
	if (end < s->ramdisk_size || start < footprint_end) {
		ksnprintf(err, errlen, "ramdisk '%s' (%u KiB) does not fit between the kernel's %u MiB and "
				       "initrd_addr_max %#x; give the guest more memory (mem:)",
			  s->rname, s->ramdisk_size >> 10, footprint_end >> 20, k->initrd_addr_max);
		return -1;
	}
	memmove((void *)(uintptr_t)start, (const void *)(uintptr_t)s->ramdisk, s->ramdisk_size);
	s->ramdisk = (uint32_t)start;
	return 0;
}

static int plan_linux(struct staged *s, struct direct_plan *p, char *err, unsigned errlen)
{
	const uint8_t *img = (const uint8_t *)(uintptr_t)s->kernel;
	struct linux_kernel k;
	char why[160];
	if (linux_parse(img, s->kernel_size, &k, why, sizeof(why)) < 0) {
		ksnprintf(err, errlen, "kernel '%s' %s", s->kname, why);
		return -1;
	}
	uint64_t fend = linux_footprint_end(&k);
	if (fend > s->ram_top) {
		ksnprintf(err, errlen, "kernel '%s' needs RAM up to %llu MiB while it decompresses (init_size %u "
				       "MiB); the guest has %u MiB: give it more (mem:)",
			  s->kname, (unsigned long long)(fend >> 20), k.init_size >> 20, s->ram_top >> 20);
		return -1;
	}
	size_t clen = strlen(s->cmdline);
	if (clen > k.cmdline_max || clen >= HVMLOADER_CMDLINE_MAX) {
		ksnprintf(err, errlen, "the command line is %u characters; kernel '%s' takes at most %u", (unsigned)clen,
			  s->kname, k.cmdline_max);
		return -1;
	}
	if (s->ramdisk_size && place_initrd(s, &k, (uint32_t)fend, err, errlen) < 0)
		return -1;
	memcpy((void *)LINUX_CMDLINE_ADDR, s->cmdline, clen + 1);
	print("hvmloader: kernel '%s': Linux bzImage, boot protocol %u.%02u, %u KiB at %#x, init_size %u MiB\n",
	      s->kname, k.version >> 8, k.version & 0xff, k.pm_size >> 10, k.code32_start, k.init_size >> 20);
	if (s->ramdisk_size)
		print("hvmloader: initrd '%s' at %#x-%#x\n", s->rname, s->ramdisk, s->ramdisk + s->ramdisk_size - 1);
	print("hvmloader: command line: %s\n", s->cmdline);

	struct linux_boot b = { e820, e820_nr, LINUX_CMDLINE_ADDR, s->ramdisk, s->ramdisk_size };
	if (linux_zero_page_build((uint8_t *)DIRECT_INFO_ADDR, img, &k, &b) < 0) {
		ksnprintf(err, errlen, "the E820 map does not fit in the zero page");
		return -1;
	}
	/* The protected-mode part: forward copy from above, overlap or not. */
	p->copy[p->nr++] = (struct direct_copy){ k.code32_start, s->kernel + k.pm_offset, k.pm_size, 0 };
	p->entry = k.code32_start;
	p->esi = DIRECT_INFO_ADDR;
	return 0;
}

void direct_boot(const struct hvmloader_start_info *si, char *err, unsigned errlen)
{
	struct staged s;
	if (check_staged(si, &s, err, errlen) < 0)
		return;
	const uint8_t *img = (const uint8_t *)(uintptr_t)s.kernel;
	char why[200];
	enum kernel_kind kind = kernel_image_kind(img, s.kernel_size, why, sizeof(why));
	if (kind == KERNEL_UNKNOWN) {
		ksnprintf(err, errlen, "kernel '%s' %s", s.kname, why);
		return;
	}
	e820_print(e820, e820_nr);

	if (smp_tables_build(&direct_tables_at, si->nr_vcpus, si->flags & HVMLOADER_FLAG_ACPI_PM) < 0) {
		ksnprintf(err, errlen, "cannot build the MP/ACPI tables for %u vCPUs (1 to 8 supported)", si->nr_vcpus);
		return;
	}

	/* Built here, copied after the trampoline once its place is known. */
	static struct direct_plan plan;
	struct direct_plan *p = &plan;
	memset(p, 0, sizeof(*p));
	low_area = &low_areas[0]; /* Linux: always here (its kernel is at 1 MiB) */
	if (kind != KERNEL_MULTIBOOT1)
		memset((void *)DIRECT_INFO_ADDR, 0, DIRECT_INFO_SIZE);
	if ((kind == KERNEL_MULTIBOOT1 ? plan_multiboot1 : plan_linux)(&s, p, err, errlen) < 0)
		return;

	size_t tlen = (size_t)(trampoline_end - trampoline_start);
	if (tlen > TRAMPOLINE_MAX) {
		ksnprintf(err, errlen, "the trampoline is %u bytes, more than %u (a build problem)", (unsigned)tlen,
			  TRAMPOLINE_MAX);
		return;
	}
	uint8_t *t = (uint8_t *)(uintptr_t)low_area->trampoline;
	memcpy(t, trampoline_start, tlen);
	memcpy(t + TRAMPOLINE_MAX, p, sizeof(*p));
	print("hvmloader: starting the kernel at %#x (EAX %#x, EBX %#x, ESI %#x)\n", p->entry, p->eax, p->ebx, p->esi);
	keel_hypercall(KEEL_HC_TIMELINE_MARK, KEEL_MARK_HANDOVER);
	((void (*)(void))t)();
}
