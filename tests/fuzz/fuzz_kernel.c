/*
 * libFuzzer harness for the parsers of kernel images a guest's owner gives
 * Keel (guest=...,kernel:MODULE): kernel recognition (lib/kernel_image.c),
 * the multiboot1 header, ELF32 program headers and a.out-kludge fields
 * (loader/multiboot1.c), the Linux setup header (loader/linux.c), and the
 * boot information built from what they accept.
 *
 * Input: the kernel image itself (the first 64 KiB of it); the last byte
 * also picks a command line length and whether a module is given.
 *
 * Checked: an accepted multiboot1 kernel has 1 to MB1_MAX_SEGMENTS segments,
 * each read from inside the image (file_off + file_len <= length, no wrap),
 * with file_len <= mem_len, ending below 4 GiB, inside [lowest, highest),
 * and its entry point inside one of them; its information block fits the
 * buffer and every pointer in it points inside what was written. An accepted
 * bzImage has its protected-mode part inside the image, loads at 1 MiB, an
 * init_size covering it, and a zero page whose E820 count and command line
 * pointer are what was asked. A refusal always comes with a message.
 *
 *   make build/fuzz/fuzz_kernel
 *   build/fuzz/fuzz_kernel -max_total_time=60 tests/fuzz/corpus/kernel
 */
#include <stdlib.h>
#include <string.h>

#include <keel/kernel_image.h>

#include "e820.h"
#include "fuzz_input.h"
#include "linux.h"
#include "multiboot1.h"

#define MAX_IMAGE 0x10000u
#define INFO_BASE 0x10000u

static char err[200];

static void check_message(void) { require(err[0] != 0 && memchr(err, 0, sizeof(err)) != NULL); }

static void check_mb1(const uint8_t *img, uint32_t len, uint8_t knob)
{
	struct mb1_kernel k;
	err[0] = 0;
	if (mb1_parse(img, len, &k, err, sizeof(err)) < 0) {
		check_message();
		return;
	}
	require(k.nr_segments >= 1 && k.nr_segments <= MB1_MAX_SEGMENTS);
	int entry_in = 0;
	for (unsigned i = 0; i < k.nr_segments; i++) {
		const struct mb1_segment *s = &k.seg[i];
		require((uint64_t)s->file_off + s->file_len <= len);
		require(s->file_len <= s->mem_len);
		require((uint64_t)s->paddr + s->mem_len <= 0x100000000ULL);
		require(s->paddr >= k.lowest && (uint64_t)s->paddr + s->mem_len <= k.highest);
		entry_in |= k.entry >= s->paddr && k.entry - s->paddr < s->mem_len;
	}
	require(entry_in);

	/* The information block for this kernel, as direct_boot.c builds it. */
	static uint8_t buf[4096];
	static char cmdline[300];
	struct e820_entry e[5];
	unsigned n = e820_build(e, 5, 64u << 20, 0, 0xa0000, 0);
	require(n > 0);
	size_t clen = (size_t)(knob & 0x7f) * 2;
	memset(cmdline, 'x', clen);
	cmdline[clen] = 0;
	struct mb1_boot b = { e, n, "kernel", cmdline, 0, 0, "module", "Keel hvmloader" };
	if (knob & 0x80) {
		b.mod_start = 0x3000000;
		b.mod_end = 0x3000000 + len;
	}
	uint32_t size = 256 + (knob & 0x7f) * 8; /* sometimes too small */
	memset(buf, 0xa5, sizeof(buf));
	uint32_t used = mb1_info_build(buf, size, INFO_BASE, &b);
	if (!used)
		return;
	require(used <= size && used >= sizeof(struct mb1_info));
	struct mb1_info info;
	memcpy(&info, buf, sizeof(info));
	uint64_t lo = INFO_BASE, hi = INFO_BASE + used;
	if (info.flags & MB1_INFO_CMDLINE) {
		require(info.cmdline >= lo && info.cmdline < hi);
		/* "kernel ARGS", or the name alone (argv[0], as GRUB gives it) */
		const char *c = (char *)buf + (info.cmdline - INFO_BASE);
		require(strlen(c) == 6 + (clen ? 1 + clen : 0) && !strncmp(c, clen ? "kernel " : "kernel", clen ? 7 : 6));
	}
	if (info.flags & MB1_INFO_MEM_MAP)
		require(info.mmap_addr >= lo && (uint64_t)info.mmap_addr + info.mmap_length <= hi);
	if (info.flags & MB1_INFO_MODS)
		require(info.mods_addr >= lo && (uint64_t)info.mods_addr + 16 * info.mods_count <= hi);
	if (info.flags & MB1_INFO_LOADER_NAME)
		require(info.boot_loader_name >= lo && info.boot_loader_name < hi);
}

static void check_linux(const uint8_t *img, uint32_t len, uint8_t knob)
{
	struct linux_kernel k;
	err[0] = 0;
	if (linux_parse(img, len, &k, err, sizeof(err)) < 0) {
		check_message();
		return;
	}
	require(k.pm_offset == k.setup_size && (uint64_t)k.pm_offset + k.pm_size == len && k.pm_size > 0);
	require(k.code32_start == LINUX_LOAD_ADDR && k.init_size >= k.pm_size);
	require(k.header_end <= LX_E820_TABLE && k.initrd_addr_max >= 0x100000);
	require(linux_footprint_end(&k) >= (uint64_t)k.code32_start + k.init_size);

	static uint8_t zp[LINUX_ZERO_PAGE_SIZE];
	struct e820_entry e[5];
	unsigned n = e820_build(e, 5, 192u << 20, 0, 0xa0000, (knob & 1) ? 0x1000 : 0);
	require(n > 0);
	struct linux_boot b = { e, n, 0x11000, (knob & 2) ? 0x8000000u : 0, (knob & 2) ? len : 0 };
	memset(zp, 0xa5, sizeof(zp));
	require(linux_zero_page_build(zp, img, &k, &b) == 0);
	require(zp[LX_E820_ENTRIES] == n);
	uint32_t cmd;
	memcpy(&cmd, zp + LX_CMD_LINE_PTR, 4);
	require(cmd == 0x11000);
	require(zp[LX_TYPE_OF_LOADER] == LINUX_LOADER_TYPE_UNDEFINED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len = size > MAX_IMAGE ? MAX_IMAGE : (uint32_t)size;
	/* A private copy: the parsers must not need more than len bytes, and
	 * ASan sees any read past them. */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	uint8_t knob = len ? data[len - 1] : 0;

	char why[200];
	why[0] = 0;
	enum kernel_kind kind = kernel_image_kind(copy, len, why, sizeof(why));
	if (kind == KERNEL_UNKNOWN)
		require(why[0] != 0);
	check_mb1(copy, len, knob);
	check_linux(copy, len, knob);
	free(copy);
	return 0;
}
