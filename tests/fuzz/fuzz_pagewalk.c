/*
 * libFuzzer harness for the guest page walk Keel does for string I/O,
 * hypercall buffers and MMIO instruction fetches (hvm/page_walk.c): the
 * page tables are the guest's own, so every byte of them is the guest's
 * choice.
 *
 * Input: CR0 (PG, WP), CR4 (PAE, PSE, SMEP, SMAP) and EFER (LMA, NXE) bits
 * from one byte, the CPL (0 or 3) and RFLAGS.AC from another, MAXPHYADDR
 * (32-52) from a third; CR3 and the linear address (8 bytes each); then the
 * guest's RAM: the rest of the input, a heap copy of exactly its size, so
 * a table read past its end is ASan's to see (the walk must ask the reader,
 * which refuses it).
 *
 * Checked, for each of read, write and fetch: the status is one of the
 * three; a translation keeps the offset within the 4 KiB page and lies
 * below 2^MAXPHYADDR (reserved bits are refused); paging off maps the
 * address to itself; a fault's error code has only P, W/R, U/S, RSVD and
 * I/D, with W/R set exactly for writes and U/S exactly at CPL 3, and RSVD
 * only with P; a write that is allowed implies a read that is allowed to
 * the same place; the same walk twice gives the same answer.
 *
 *   make build/fuzz/fuzz_pagewalk
 *   build/fuzz/fuzz_pagewalk -max_total_time=60 tests/fuzz/corpus/pagewalk
 */
#include <stdlib.h>
#include <string.h>

#include <keel/page_walk.h>
#include <x86/cpu.h>

#include "fuzz_input.h"

struct ram {
	const uint8_t *p;
	uint64_t size;
};

static bool rd(void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
	const struct ram *r = ctx;
	*e = 0;
	if (gpa > r->size || r->size - gpa < size)
		return false;
	memcpy(e, r->p + gpa, size);
	return true;
}

static enum page_walk_status walk(const struct page_walk_mode *m, uint64_t la, enum page_access acc,
				  struct ram *r, uint64_t *gpa, uint32_t *err)
{
	*gpa = 0;
	*err = 0;
	enum page_walk_status st = page_walk(m, la, acc, rd, r, gpa, err);
	uint64_t gpa2 = 0;
	uint32_t err2 = 0;
	require(page_walk(m, la, acc, rd, r, &gpa2, &err2) == st);
	if (st == PAGE_WALK_OK)
		require(gpa2 == *gpa);
	if (st == PAGE_WALK_FAULT)
		require(err2 == *err);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t bits = fin_u8(&in), who = fin_u8(&in), width = fin_u8(&in);
	struct page_walk_mode m = {
		.cr0 = CR0_PE | ((bits & 1) ? CR0_PG : 0) | ((bits & 2) ? CR0_WP : 0),
		.cr4 = ((bits & 4) ? CR4_PAE : 0) | ((bits & 8) ? CR4_PSE : 0) | ((bits & 16) ? CR4_SMEP : 0) |
		       ((bits & 32) ? CR4_SMAP : 0),
		.efer = ((bits & 64) ? EFER_LME | EFER_LMA : 0) | ((bits & 128) ? EFER_NXE : 0),
		.cpl = (who & 1) ? 3 : 0,
		.ac = who & 2,
		.maxphyaddr = 32 + width % 21,
	};
	if (m.efer & EFER_LMA)
		m.cr4 |= CR4_PAE; /* IA-32e mode needs it */
	m.cr3 = fin_u64(&in);
	uint64_t la = fin_u64(&in);
	uint8_t *copy = malloc(in.left ? in.left : 1);
	memcpy(copy, in.p, in.left);
	struct ram r = { copy, in.left };

	uint64_t gpa[3];
	uint32_t err[3];
	enum page_walk_status st[3];
	for (int a = PAGE_READ; a <= PAGE_FETCH; a++) {
		st[a] = walk(&m, la, (enum page_access)a, &r, &gpa[a], &err[a]);
		require(st[a] == PAGE_WALK_OK || st[a] == PAGE_WALK_FAULT || st[a] == PAGE_WALK_NO_TABLE);
		if (st[a] == PAGE_WALK_OK) {
			require((gpa[a] & 0xfff) == (la & 0xfff));
			require(gpa[a] >> m.maxphyaddr == 0);
			if (!(m.cr0 & CR0_PG))
				require(gpa[a] == (la & 0xffffffffULL));
		} else if (st[a] == PAGE_WALK_FAULT) {
			require(!(err[a] & ~0x1fu));
			require(!!(err[a] & PF_ERR_W) == (a == PAGE_WRITE));
			require(!!(err[a] & PF_ERR_U) == (m.cpl == 3));
			require(!(err[a] & PF_ERR_RSVD) || (err[a] & PF_ERR_P));
			require(!(err[a] & PF_ERR_I) || a == PAGE_FETCH);
		}
	}
	if (st[PAGE_WRITE] == PAGE_WALK_OK)
		require(st[PAGE_READ] == PAGE_WALK_OK && gpa[PAGE_READ] == gpa[PAGE_WRITE]);
	free(copy);
	return 0;
}
