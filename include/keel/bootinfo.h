/* Keel's own copy of what the boot loader told it (lib/mb2.c fills it from
 * the multiboot2 information block). */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include <keel/types.h>

#define BOOTINFO_MAX_MMAP 128
#define BOOTINFO_MAX_MODULES 32

struct mem_region {
	uint64_t base, len;
	uint32_t type; /* 1 RAM, 3 ACPI reclaimable, 4 NVS, 5 bad, other reserved */
};

struct boot_module {
	uint64_t start, end; /* end exclusive */
	char name[32];       /* first word of the module string */
	char args[96];       /* the rest */
};

struct bootinfo {
	uint64_t info_start, info_end; /* physical range of the MBI itself */
	char cmdline[1024];
	char loader_name[64];
	bool have_meminfo;
	uint32_t mem_lower_kb, mem_upper_kb;
	struct mem_region mmap[BOOTINFO_MAX_MMAP];
	unsigned nr_mmap;
	struct boot_module modules[BOOTINFO_MAX_MODULES];
	unsigned nr_modules;
	uint8_t rsdp[36];
	unsigned rsdp_len; /* 0: no RSDP tag */
	int rsdp_revision;
	unsigned nr_warnings;
	char warnings[8][96];
};

/* Parses the multiboot2 information at `info` (physical `info_phys`), of
 * which at most `avail` bytes may be read. Returns 0, or -1 with the reason
 * in err. Malformed input is an error, never a crash. */
int mb2_parse(const void *info, size_t avail, uint64_t info_phys, struct bootinfo *bi, char *err, size_t errlen);
const struct boot_module *bootinfo_find_module(const struct bootinfo *bi, const char *name);
const char *mem_region_type_name(uint32_t type);

#endif
