/*
 * Multiboot (version 0.6.96, "multiboot1"): the kernel header hvmloader
 * parses and the information block it builds. Pure: takes plain buffers,
 * host unit-tested (tests/unit/test_multiboot1.c).
 */
#ifndef LOADER_MULTIBOOT1_H
#define LOADER_MULTIBOOT1_H

#include <stddef.h>
#include <stdint.h>

#include "e820.h"

#define MB1_BOOTLOADER_MAGIC 0x2badb002u /* EAX at the kernel's entry */

/* Header flags: bits 0-15 are requirements (a loader that cannot meet one
 * must refuse the kernel), 16-31 optional features. */
#define MB1_HF_PAGE_ALIGN (1u << 0)  /* modules page-aligned */
#define MB1_HF_MEMORY_INFO (1u << 1) /* mem_* fields (and the map) wanted */
#define MB1_HF_VIDEO_MODE (1u << 2)  /* a video mode wanted */
#define MB1_HF_AOUT_KLUDGE (1u << 16) /* load by the address fields */

/* Information block flags (what is valid). */
#define MB1_INFO_MEMORY (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB1_INFO_MEM_MAP (1u << 6)
#define MB1_INFO_LOADER_NAME (1u << 9)

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB below 640 KiB / contiguous from 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
} __attribute__((packed));

struct mb1_module {
	uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

/* A memory map entry: size (of the rest, 20) first. */
struct mb1_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* Where the image's bytes go: file [file_off, file_off + file_len) to
 * paddr, then zeros up to paddr + mem_len. */
#define MB1_MAX_SEGMENTS 8
struct mb1_segment {
	uint32_t paddr, file_off, file_len, mem_len;
};

struct mb1_kernel {
	uint32_t header_flags;
	uint32_t entry;
	unsigned nr_segments;
	struct mb1_segment seg[MB1_MAX_SEGMENTS];
	uint32_t lowest, highest; /* [lowest, highest) covers every segment */
	int aout_kludge;          /* loaded by the header's address fields */
};

/* Parses a multiboot1 image of len bytes: ELF32 program headers, or the
 * a.out-kludge address fields when header flag 16 is set. Returns 0, or -1
 * with a sentence in err. Checks the image only (bounds, overflow, flags);
 * where the segments may go in RAM is the caller's business. */
int mb1_parse(const uint8_t *img, uint32_t len, struct mb1_kernel *k, char *err, size_t errlen);

/* What the information block describes. */
struct mb1_boot {
	const struct e820_entry *e820;
	unsigned e820_nr;
	/* The kernel's own file name, the first word of the command line as
	 * GRUB and QEMU pass it (programs that parse argv read their first
	 * argument from the second word); NULL: the command line as it is. */
	const char *kernel_name;
	const char *cmdline;     /* NULL: none (or only kernel_name) */
	uint32_t mod_start, mod_end; /* mod_end == 0: no module */
	const char *mod_string;
	const char *loader_name;
};

/* Builds the information block and everything it points at into buf,
 * which the guest will see at guest-physical base (pointers in the block
 * are base + offset). Returns the bytes used, or 0 if buf is too small or
 * the memory map lacks the low 640 KiB / the RAM at 1 MiB. */
uint32_t mb1_info_build(uint8_t *buf, uint32_t size, uint32_t base, const struct mb1_boot *b);

#endif
