/*
 * Keel's own copy of what the boot loader told it. lib/mb2.c fills it from
 * the multiboot2 information block (MBI), which Keel may overwrite later:
 * nothing here points back into the MBI.
 *
 * What is an error and what is a warning:
 *  - mb2_parse() fails (-1, reason in err) when the block does not add up:
 *    misaligned, total_size out of bounds, a tag that does not fit, a
 *    string without its NUL inside its tag, a module whose end is below its
 *    start, a memory map whose entries do not fill its tag, no end tag, or
 *    no memory map at all (Keel cannot find RAM without one).
 *  - It warns (warnings[], and carries on) when the block is sound but Keel
 *    keeps less than it was given: a string longer than its field here is
 *    cut, modules past 32 and memory-map entries past 128 are dropped, a
 *    memory-map entry running past 2^64 is clipped, a tag repeated where one
 *    is expected keeps the first, bytes after the end tag are ignored, an
 *    RSDP with a bad checksum is still copied.
 */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include <keel/types.h>

#define BOOTINFO_MAX_MMAP 128
#define BOOTINFO_MAX_MODULES 32
#define BOOTINFO_MAX_WARNINGS 8

/* Memory-map types (multiboot2 tag 6, the same numbers as E820). */
#define MEM_RAM 1
#define MEM_ACPI_RECLAIM 3
#define MEM_ACPI_NVS 4
#define MEM_BAD 5

struct mem_region {
	uint64_t base, len;
	uint32_t type; /* 1 RAM, 3 ACPI reclaimable, 4 NVS, 5 bad, other reserved */
};

struct boot_module {
	uint64_t start, end; /* end exclusive */
	char name[32];       /* first word of the module string ("" if none) */
	char args[96];       /* the rest, leading blanks removed */
};

/* Multiboot2 framebuffer types. */
#define MB2_FB_TYPE_INDEXED 0
#define MB2_FB_TYPE_RGB 1
#define MB2_FB_TYPE_EGA_TEXT 2

/* The framebuffer tag (8), as the loader gave it. */
struct boot_framebuffer {
	bool present;
	uint64_t addr;
	uint32_t pitch, width, height; /* pitch in bytes, width and height in pixels */
	uint8_t bpp, type;
	/* Direct RGB only: red position, red size, green position, green
	 * size, blue position, blue size (bits within a pixel). */
	uint8_t rgb[6];
};

struct bootinfo {
	uint64_t info_start, info_end; /* physical range of the MBI itself */
	char cmdline[1024];            /* the words after the kernel's path */
	char loader_name[64];
	bool have_meminfo;
	uint32_t mem_lower_kb, mem_upper_kb;
	struct mem_region mmap[BOOTINFO_MAX_MMAP]; /* in the loader's order; zero-length entries dropped */
	unsigned nr_mmap;
	struct boot_module modules[BOOTINFO_MAX_MODULES];
	unsigned nr_modules;
	uint8_t rsdp[36];  /* tag 15 (ACPI 2.0+) if present, else tag 14 */
	unsigned rsdp_len; /* 0: no RSDP tag; 20 (tag 14) or 36 (tag 15) */
	int rsdp_revision; /* the RSDP's own revision byte */
	uint64_t efi_systab; /* tag 12: the EFI system table (0: not a UEFI boot, or not passed) */
	struct boot_framebuffer fb; /* tag 8 */
	unsigned nr_warnings;
	char warnings[BOOTINFO_MAX_WARNINGS][96];
	unsigned warnings_dropped; /* warnings beyond BOOTINFO_MAX_WARNINGS */
};

/* Parses the multiboot2 information at `info` (physical `info_phys`), of
 * which at most `avail` bytes may be read. Returns 0, or -1 with the reason
 * in err ("tag 6 at offset 0x48: size 12 is smaller than its header").
 * Malformed input is an error, never a read outside [info, info+avail). */
int mb2_parse(const void *info, size_t avail, uint64_t info_phys, struct bootinfo *bi, char *err, size_t errlen);
/* The first module whose name is `name`, or NULL (also for an empty name). */
const struct boot_module *bootinfo_find_module(const struct bootinfo *bi, const char *name);
/* "RAM", "ACPI reclaimable", "ACPI NVS", "bad RAM" or "reserved". */
const char *mem_region_type_name(uint32_t type);

#endif
