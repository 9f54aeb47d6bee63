/* Direct kernel boot: staging the kernel, ramdisk and command line in guest
 * RAM for hvmloader (hvm/core/guest_kernel.c). */
#ifndef KEEL_GUEST_KERNEL_H
#define KEEL_GUEST_KERNEL_H

#include <keel/hvmloader_abi.h>

struct guest;
struct boot_module;

/* Checks the kernel's kind and copies the pieces into g's RAM, filling the
 * direct-boot fields of si. ramdisk may be NULL. Returns 0, or -1 after
 * printing an error that names the guest and the module. */
int guest_stage_kernel(struct guest *g, const struct boot_module *kernel, const struct boot_module *ramdisk,
		       const char *cmdline, struct hvmloader_start_info *si);

#endif
