/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), 32-bit
 * entry: the setup header hvmloader checks and the zero page (struct
 * boot_params) it builds. Pure, host unit-tested (tests/unit/test_linux_boot.c).
 */
#ifndef LOADER_LINUX_H
#define LOADER_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define LINUX_ZERO_PAGE_SIZE 4096u
/* Offsets in the image and in the zero page (the setup header is the same
 * bytes at the same offsets in both). */
#define LX_EXT_RAMDISK_IMAGE 0x0c0
#define LX_EXT_RAMDISK_SIZE 0x0c4
#define LX_EXT_CMD_LINE_PTR 0x0c8
#define LX_E820_ENTRIES 0x1e8
#define LX_SETUP_SECTS 0x1f1
#define LX_HEADER_START 0x1f1 /* the setup header runs from here... */
#define LX_JUMP 0x200         /* ...to 0x202 + the byte at 0x201 */
#define LX_VID_MODE 0x1fa
#define LX_TYPE_OF_LOADER 0x210
#define LX_LOADFLAGS 0x211
#define LX_CODE32_START 0x214
#define LX_RAMDISK_IMAGE 0x218
#define LX_RAMDISK_SIZE 0x21c
#define LX_CMD_LINE_PTR 0x228
#define LX_INITRD_ADDR_MAX 0x22c
#define LX_KERNEL_ALIGNMENT 0x230
#define LX_RELOCATABLE 0x234
#define LX_CMDLINE_SIZE 0x238
#define LX_PREF_ADDRESS 0x258
#define LX_INIT_SIZE 0x260
#define LX_E820_TABLE 0x2d0
#define LX_E820_MAX 128

#define LINUX_LOADER_TYPE_UNDEFINED 0xff /* "boot loader not in the registry" */
#define LINUX_LOAD_ADDR 0x100000u        /* bzImage: the protected-mode part at 1 MiB */

struct linux_kernel {
	unsigned version;       /* e.g. 0x020f */
	uint32_t setup_size;    /* bytes of the real-mode part (boot sector + setup) */
	uint32_t pm_offset;     /* the protected-mode kernel in the file */
	uint32_t pm_size;
	uint32_t code32_start;  /* where the protected-mode part must be loaded */
	uint32_t init_size;     /* memory it needs from its load address while it decompresses */
	uint32_t initrd_addr_max; /* highest address the initrd's last byte may have */
	uint32_t cmdline_max;   /* longest command line, without the NUL */
	uint32_t header_end;    /* 0x202 + jump offset: end of the setup header */
	int relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
};

/* Checks the setup header of a bzImage (magic, version >= 2.10, loaded
 * high, sizes inside the file). Returns 0, or -1 with a sentence in err. */
int linux_parse(const uint8_t *img, uint32_t len, struct linux_kernel *k, char *err, size_t errlen);

/* The end of memory the kernel may overwrite while it decompresses, from
 * its load address: the load address (or its preferred address, for a
 * relocatable kernel that moves itself there) plus init_size. */
uint64_t linux_footprint_end(const struct linux_kernel *k);

struct linux_boot {
	const struct e820_entry *e820;
	unsigned e820_nr;
	uint32_t cmdline_addr; /* guest-physical address of the NUL-terminated command line */
	uint32_t initrd_addr, initrd_size; /* size 0: no initrd */
};

/* Fills the 4 KiB zero page: the image's setup header, then what the
 * protocol says a boot loader writes. Returns 0, or -1 if the E820 map has
 * more entries than the zero page holds. */
int linux_zero_page_build(uint8_t *zp, const uint8_t *img, const struct linux_kernel *k, const struct linux_boot *b);

#endif
