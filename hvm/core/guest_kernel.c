/*
 * Direct kernel boot, Keel's half: recognise the kernel module (so a wrong
 * module is refused before the guest is built, naming guest and module),
 * then copy the kernel, ramdisk and command line into the guest's RAM where
 * the hvmloader ABI says (include/keel/hvmloader_abi.h). Keel never parses
 * the image beyond that first look: placing and entering it is hvmloader's
 * job, inside the guest (docs/boot-flow.md says why).
 */
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/guest.h>
#include <keel/guest_kernel.h>
#include <keel/hvmloader_abi.h>
#include <keel/kernel_image.h>
#include <keel/mm.h>
#include <keel/string.h>

int guest_stage_kernel(struct guest *g, const struct boot_module *kernel, const struct boot_module *ramdisk,
		       const char *cmdline, struct hvmloader_start_info *si)
{
	uint64_t ksize = kernel->end - kernel->start;
	uint64_t rsize = ramdisk ? ramdisk->end - ramdisk->start : 0;
	char why[200];

	if (kernel_image_kind(phys_to_virt(kernel->start), ksize, why, sizeof(why)) == KERNEL_UNKNOWN) {
		pr_err("guest %s: kernel module '%s' %s\n", g->name, kernel->name, why);
		return -1;
	}
	/* Ramdisk at the top of RAM, kernel right below it, both
	 * page-aligned, both above the staging address. */
	/* Below 4 GiB: hvmloader and the kernel run with paging off. */
	uint64_t top = g->ram.below_4g;
	if (ksize + rsize + 2 * PAGE_SIZE > top - HVMLOADER_STAGING_ADDR) {
		pr_err("guest %s: kernel '%s' (%lu KiB)%s%s%s do not fit in %lu MiB of RAM above %u MiB; give the guest "
		       "more memory (mem:)\n",
		       g->name, kernel->name, ksize >> 10, ramdisk ? " and ramdisk '" : "", ramdisk ? ramdisk->name : "",
		       ramdisk ? "'" : "", top >> 20, HVMLOADER_STAGING_ADDR >> 20);
		return -1;
	}
	uint64_t rstart = ALIGN_DOWN(top - rsize, PAGE_SIZE);
	uint64_t kstart = ALIGN_DOWN(rstart - ksize, PAGE_SIZE);
	if (rsize && !guest_write_phys(g, rstart, phys_to_virt(ramdisk->start), rsize))
		return -1;
	if (!guest_write_phys(g, kstart, phys_to_virt(kernel->start), ksize))
		return -1;
	si->kernel_paddr = kstart;
	si->kernel_size = ksize;
	si->ramdisk_paddr = rsize ? rstart : 0;
	si->ramdisk_size = rsize;
	kstrlcpy(si->kernel_name, kernel->name, sizeof(si->kernel_name));
	if (ramdisk)
		kstrlcpy(si->ramdisk_name, ramdisk->name, sizeof(si->ramdisk_name));
	if (cmdline && cmdline[0]) {
		size_t n = strlen(cmdline) + 1;
		if (n > HVMLOADER_CMDLINE_MAX) {
			pr_err("guest %s: cmdline: is %zu bytes, more than %u\n", g->name, n - 1, HVMLOADER_CMDLINE_MAX - 1);
			return -1;
		}
		guest_write_phys(g, HVMLOADER_CMDLINE_ADDR, cmdline, n);
		si->cmdline_paddr = HVMLOADER_CMDLINE_ADDR;
		si->cmdline_size = (uint32_t)n;
	}
	return 0;
}
