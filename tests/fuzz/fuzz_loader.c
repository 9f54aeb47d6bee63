/*
 * libFuzzer harness for hvmloader's pure parts: the check of Keel's start
 * information (loader/start_info.c), the E820 builder (loader/e820.c) and
 * the SeaBIOS info table (loader/seabios_info.c), with any guest size.
 *
 * Input:
 *   [0]       steering flags: bit 0 uses the right EAX magic, bit 1 makes
 *             the block's magic, version and size right (so the rest of the
 *             checks are reached), bit 2 clears ram_above_4g
 *   [1..4]    EAX (when bit 0 is clear)
 *   [..64]    struct hvmloader_start_info, as Keel would write it
 *   then      E820 table room (% 17 entries), the table-array and E820
 *             addresses, a number of BIOS tables to add, and a copy of the
 *             finished info table's bytes with edits, checked the way SeaBIOS
 *             checks it, from a buffer of the size the input gives.
 *
 * Checked: a start block that passes leaves SeaBIOS's staging area inside
 * RAM, clear of where it is copied, without wrapping; the E820 map is
 * sorted, without overlaps or wrap-around, covers exactly the guest's RAM and
 * reserves the BIOS; the info table passes SeaBIOS's checks (signature,
 * length, byte sum), and the checker agrees with SeaBIOS's rule on any edit.
 *
 *   make build/fuzz/fuzz_loader
 *   build/fuzz/fuzz_loader -max_total_time=60 tests/fuzz/corpus/loader
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "e820.h"
#include "fuzz_input.h"
#include "seabios_info.h"
#include "start_info.h"

#define ONE_MIB 0x100000ULL
#define FOUR_GIB 0x100000000ULL

static void check_start_info(const struct hvmloader_start_info *si, int r, uint32_t bios_start, const char *err)
{
	if (r < 0) {
		require(err[0] != 0 && memchr(err, 0, 200) != NULL);
		return;
	}
	require(r == 0);
	require(si->ram_below_4g <= HVMLOADER_LOW_RAM_LIMIT); /* never into the MMIO hole */
	if (si->kernel_size) {
		/* Direct kernel boot: no SeaBIOS image at all. */
		require(si->firmware_size == 0 && si->firmware_paddr == 0 && bios_start == 0);
		return;
	}
	uint64_t fw = si->firmware_paddr, fsize = si->firmware_size;
	require(fsize && fsize % 0x10000 == 0 && fsize <= LOADER_BIOS_MAX);
	require(bios_start == LOADER_BIOS_END - fsize);
	/* hvmloader copies [fw, fw + fsize) to [bios_start, 1 MiB): the source
	 * must be guest RAM and must not overlap the destination. */
	require(fw + fsize >= fw); /* no wrap-around */
	require(fw + fsize <= si->ram_below_4g && si->ram_below_4g <= FOUR_GIB);
	require(fw >= LOADER_BIOS_END || fw + fsize <= bios_start);
}

static void check_e820(const struct e820_entry *e, unsigned n, unsigned max, uint64_t below, uint64_t above,
		       uint32_t bios_start)
{
	if (!n)
		return;
	require(n <= max);
	uint64_t ram_low = 0, ram_high = 0;
	bool bios_reserved = false;
	for (unsigned i = 0; i < n; i++) {
		require(e[i].size > 0);
		require(e[i].start + e[i].size > e[i].start); /* no wrap-around */
		require(e[i].type == E820_RAM || e[i].type == E820_RESERVED);
		if (i)
			require(e[i].start >= e[i - 1].start + e[i - 1].size); /* sorted, disjoint */
		/* nothing in the MMIO hole below 4 GiB */
		require(e[i].start >= FOUR_GIB || e[i].start + e[i].size <= HVMLOADER_LOW_RAM_LIMIT);
		if (e[i].type == E820_RAM && e[i].start < FOUR_GIB) {
			require(e[i].start + e[i].size <= below);
			ram_low += e[i].size;
		} else if (e[i].type == E820_RAM) {
			ram_high += e[i].size;
		}
		if (e[i].type == E820_RESERVED && e[i].start <= bios_start && e[i].start + e[i].size >= ONE_MIB)
			bios_reserved = true;
	}
	require(bios_reserved);
	/* All RAM below 4 GiB except the VGA/BIOS hole, and all above it. */
	require(ram_low == below - (ONE_MIB - 0xa0000));
	require(ram_high == above);
	/* SeaBIOS needs a RAM range above 1 MiB for its high zone. */
	require(n >= 3 && e[2].start == ONE_MIB && e[2].type == E820_RAM);
}

/* SeaBIOS's validate_info (src/fw/xen.c), written out again. */
static int seabios_rule(const uint8_t *p, size_t avail)
{
	if (avail < 32)
		return -2;
	if (memcmp(p, "XenHVMSeaBIOS", 14) != 0)
		return -1;
	if (p[14] < 32 || p[14] > avail)
		return -2;
	uint8_t sum = 0;
	for (unsigned i = 0; i < p[14]; i++)
		sum += p[i];
	return sum ? -3 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t steer = fin_u8(&in);
	uint32_t magic = (steer & 1) ? HVMLOADER_START_MAGIC : fin_u32(&in);
	struct hvmloader_start_info *si = malloc(sizeof(*si));
	fin_bytes(&in, si, sizeof(*si));
	if (steer & 2) {
		si->magic = HVMLOADER_START_MAGIC;
		si->version = HVMLOADER_START_VERSION;
		si->size = sizeof(*si);
	}
	if (steer & 4)
		si->ram_above_4g = 0;

	char err[200];
	memset(err, 0, sizeof(err));
	uint32_t bios_start = 0;
	int r = start_info_check(magic, si, &bios_start, err, sizeof(err));
	trace("start info: %s%s\n", r ? "refused: " : "accepted", r ? err : "");
	check_start_info(si, r, bios_start, err);
	if (r < 0) /* the E820 builder still gets a BIOS start of the input's choosing */
		bios_start = fin_u32(&in);

	unsigned max = fin_u8(&in) % 17;
	struct e820_entry *e = malloc(sizeof(*e) * (max ? max : 1));
	unsigned n = e820_build(e, max, si->ram_below_4g, si->ram_above_4g, bios_start, 0);
	trace("e820: %u entries (room for %u)\n", n, max);
	check_e820(e, n, max, si->ram_below_4g, si->ram_above_4g, bios_start);
	free(e);

	/* The info table, as hvmloader builds it at 0x1000. */
	struct seabios_info info;
	uint32_t tables[SEABIOS_MAX_TABLES];
	uint32_t tables_at = fin_u32(&in), e820_at = fin_u32(&in);
	seabios_info_init(&info, tables_at, e820_at, n);
	unsigned want = fin_u8(&in) % 8;
	for (unsigned i = 0; i < want; i++) {
		int added = seabios_info_add_table(&info, tables, fin_u32(&in));
		require(added == (i < SEABIOS_MAX_TABLES ? 0 : -1));
	}
	require(info.tables_nr == (want < SEABIOS_MAX_TABLES ? want : SEABIOS_MAX_TABLES));
	seabios_info_finish(&info);
	require(seabios_info_check(&info, sizeof(info)) == 0);
	require(seabios_rule((const uint8_t *)&info, sizeof(info)) == 0);

	/* Edits of the finished table, in a buffer of the input's size. */
	size_t avail = 16 + fin_u8(&in) % 48;
	uint8_t *copy = malloc(avail);
	memset(copy, 0, avail);
	memcpy(copy, &info, avail < sizeof(info) ? avail : sizeof(info));
	for (unsigned edits = fin_u8(&in) % 4; edits; edits--) {
		uint8_t at = fin_u8(&in);
		copy[at % avail] ^= fin_u8(&in);
	}
	trace("edited table (%zu bytes): check %d\n", avail, seabios_info_check(copy, avail));
	require(seabios_info_check(copy, avail) == seabios_rule(copy, avail));
	free(copy);
	free(si);
	return 0;
}
