/* The guest's paging as Keel walks it for string I/O, hypercall buffers and
 * MMIO instruction fetches (hvm/page_walk.c): translations in each paging
 * mode, and the access rights and #PF error codes of SDM 4.6-4.7 (the walk
 * used to check none of them: a CPL-3 `rep insb` could write a
 * supervisor-only or read-only page). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/page_walk.h>
#include <x86/cpu.h>

#define MEM_SIZE 0x40000
static uint8_t mem[MEM_SIZE];

static bool rd(void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
	*e = 0;
	if (gpa + size > MEM_SIZE)
		return false;
	memcpy(e, mem + gpa, size);
	return true;
}

static void put32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(mem + gpa, &v, 8); }

#define P PTE_P
#define W PTE_RW
#define U PTE_US

static enum page_walk_status walk(const struct page_walk_mode *m, uint64_t la, enum page_access acc, uint64_t *gpa,
				  uint32_t *err)
{
	*gpa = ~0ULL;
	*err = ~0u;
	return page_walk(m, la, acc, rd, NULL, gpa, err);
}

/* 32-bit paging: PD at 0x1000, PT at 0x2000; linear 0x400000 + i * 4 KiB
 * maps 0x10000 + i * 4 KiB with the rights of pte[i]. */
static struct page_walk_mode setup32(uint32_t pde, const uint32_t *pte, unsigned n)
{
	memset(mem, 0, sizeof(mem));
	put32(0x1000 + 1 * 4, 0x2000 | pde);
	for (unsigned i = 0; i < n; i++)
		put32(0x2000 + i * 4, (0x10000 + i * 0x1000) | pte[i]);
	struct page_walk_mode m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .maxphyaddr = 40 };
	return m;
}

static void test_user_supervisor(void **state)
{
	const uint32_t pte[] = { P | W, P | W | U };
	struct page_walk_mode m = setup32(P | W | U, pte, 2);
	uint64_t gpa;
	uint32_t err;
	/* Kernel page: CPL 0 may write it, CPL 3 neither writes nor reads. */
	assert_int_equal(walk(&m, 0x400123, PAGE_WRITE, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(gpa, 0x10123);
	m.cpl = 3;
	assert_int_equal(walk(&m, 0x400123, PAGE_WRITE, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_W | PF_ERR_U);
	assert_int_equal(walk(&m, 0x400123, PAGE_READ, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_U);
	/* The user page is fine at CPL 3. */
	assert_int_equal(walk(&m, 0x401ff0, PAGE_WRITE, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(gpa, 0x11ff0);
	/* U/S combines over the levels: a supervisor PDE hides the user PTE. */
	m = setup32(P | W, pte, 2);
	m.cpl = 3;
	assert_int_equal(walk(&m, 0x401000, PAGE_READ, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_U);
}

static void test_read_only_and_wp(void **state)
{
	const uint32_t pte[] = { P | U };
	struct page_walk_mode m = setup32(P | W | U, pte, 1);
	uint64_t gpa;
	uint32_t err;
	m.cpl = 3;
	assert_int_equal(walk(&m, 0x400000, PAGE_READ, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(walk(&m, 0x400000, PAGE_WRITE, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_W | PF_ERR_U);
	/* Supervisor writes to read-only pages: allowed with CR0.WP=0 only. */
	m.cpl = 0;
	assert_int_equal(walk(&m, 0x400000, PAGE_WRITE, &gpa, &err), PAGE_WALK_OK);
	m.cr0 |= CR0_WP;
	assert_int_equal(walk(&m, 0x400000, PAGE_WRITE, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_W);
	/* R/W=0 in the PDE makes the whole 4 MiB read-only. */
	const uint32_t rw[] = { P | W | U };
	m = setup32(P | U, rw, 1);
	m.cpl = 3;
	assert_int_equal(walk(&m, 0x400000, PAGE_WRITE, &gpa, &err), PAGE_WALK_FAULT);
}

static void test_not_present(void **state)
{
	const uint32_t pte[] = { W | U };
	struct page_walk_mode m = setup32(P | W | U, pte, 1);
	uint64_t gpa;
	uint32_t err;
	m.cpl = 3;
	assert_int_equal(walk(&m, 0x400000, PAGE_WRITE, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_W | PF_ERR_U); /* P=0: not present */
	m.cpl = 0;
	assert_int_equal(walk(&m, 0x800000, PAGE_READ, &gpa, &err), PAGE_WALK_FAULT); /* PDE 2 is empty */
	assert_int_equal(err, 0);
	/* Paging off: every address is its own. */
	m.cr0 = CR0_PE;
	assert_int_equal(walk(&m, 0x123456789ULL, PAGE_WRITE, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(gpa, 0x23456789);
	/* A page table outside RAM is not a #PF: Keel stops the guest. */
	m.cr0 = CR0_PE | CR0_PG;
	m.cr3 = 0x7ffff000;
	assert_int_equal(walk(&m, 0x400000, PAGE_READ, &gpa, &err), PAGE_WALK_NO_TABLE);
}

/* PAE: PDPT at 0x1000, PD at 0x2000, PT at 0x3000; linear 0x200000 maps
 * 0x10000 with pte's bits. */
static struct page_walk_mode setup_pae(uint64_t pte, bool nxe)
{
	memset(mem, 0, sizeof(mem));
	put64(0x1000, 0x2000 | P);
	put64(0x2000 + 1 * 8, 0x3000 | P | W | U);
	put64(0x3000, 0x10000 | pte);
	struct page_walk_mode m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PAE,
				    .efer = nxe ? EFER_NXE : 0, .maxphyaddr = 40 };
	return m;
}

static void test_pae_nx(void **state)
{
	uint64_t gpa;
	uint32_t err;
	struct page_walk_mode m = setup_pae(P | W | PTE_NX, true);
	assert_int_equal(walk(&m, 0x200010, PAGE_READ, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(gpa, 0x10010);
	assert_int_equal(walk(&m, 0x200010, PAGE_FETCH, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_I);
	/* Without EFER.NXE, bit 63 is reserved. */
	m = setup_pae(P | W | PTE_NX, false);
	assert_int_equal(walk(&m, 0x200010, PAGE_READ, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_RSVD);
	/* Physical-address bits above MAXPHYADDR are reserved too. */
	m = setup_pae(P | W | (1ULL << 45), false);
	assert_int_equal(walk(&m, 0x200010, PAGE_READ, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_RSVD);
	/* A fetch from a present executable page is fine. */
	m = setup_pae(P, true);
	assert_int_equal(walk(&m, 0x200010, PAGE_FETCH, &gpa, &err), PAGE_WALK_OK);
}

/* 4-level: PML4 0x1000, PDPT 0x2000, PD 0x3000 with a 2 MiB page at
 * linear 0 (pde bits) and a PT at 0x4000 for linear 0x200000. */
static struct page_walk_mode setup_long(uint64_t pde, uint64_t pte)
{
	memset(mem, 0, sizeof(mem));
	put64(0x1000, 0x2000 | P | W | U);
	put64(0x2000, 0x3000 | P | W | U);
	put64(0x3000, 0x600000 | PTE_PS | pde);
	put64(0x3008, 0x4000 | P | W | U);
	put64(0x4000, 0x20000 | pte);
	struct page_walk_mode m = { .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PAE,
				    .efer = EFER_LME | EFER_LMA | EFER_NXE, .maxphyaddr = 40 };
	return m;
}

static void test_long_mode_smep_smap(void **state)
{
	uint64_t gpa;
	uint32_t err;
	struct page_walk_mode m = setup_long(P | W, P | W | U);
	assert_int_equal(walk(&m, 0x12345, PAGE_WRITE, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(gpa, 0x612345);
	/* Supervisor access to a user page: fine without SMEP/SMAP... */
	assert_int_equal(walk(&m, 0x200008, PAGE_FETCH, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(gpa, 0x20008);
	assert_int_equal(walk(&m, 0x200008, PAGE_READ, &gpa, &err), PAGE_WALK_OK);
	/* ...SMEP forbids the fetch, SMAP the data access unless RFLAGS.AC. */
	m.cr4 |= CR4_SMEP | CR4_SMAP;
	assert_int_equal(walk(&m, 0x200008, PAGE_FETCH, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_I);
	assert_int_equal(walk(&m, 0x200008, PAGE_WRITE, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_W);
	m.ac = true;
	assert_int_equal(walk(&m, 0x200008, PAGE_WRITE, &gpa, &err), PAGE_WALK_OK);
	/* CPL 3: SMEP/SMAP do not apply; the supervisor 2 MiB page faults. */
	m.cpl = 3;
	assert_int_equal(walk(&m, 0x200008, PAGE_FETCH, &gpa, &err), PAGE_WALK_OK);
	assert_int_equal(walk(&m, 0x1000, PAGE_READ, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_U);
	/* XD on the 2 MiB page. */
	m = setup_long(P | W | PTE_NX, P);
	assert_int_equal(walk(&m, 0x1000, PAGE_FETCH, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_I);
	/* A 2 MiB page with address bits below 2 MiB set is malformed. */
	m = setup_long(P | W | 0x10000, P);
	assert_int_equal(walk(&m, 0x1000, PAGE_READ, &gpa, &err), PAGE_WALK_FAULT);
	assert_int_equal(err, PF_ERR_P | PF_ERR_RSVD);
}

/* What a MOV to CR3 with PAE paging must load (long_mode.c's
 * vcpu_write_cr3, which the CR3-exit path used to skip: it only wrote the
 * VMCS's CR3, and the guest kept the old PDPTEs). */
static void test_pae_pdptes(void **state)
{
	uint64_t pd[4];
	memset(mem, 0, sizeof(mem));
	put64(0x1fe0, 0x5000 | P);
	put64(0x1fe8, 0);
	put64(0x1ff0, 0x7000 | P);
	put64(0x1ff8, 0x8000 | P);
	/* CR3 bits 31:5 address the table: 32-byte aligned, not 4 KiB. */
	assert_int_equal(pae_pdptes_read(0x1fe0 | 0x18, 40, rd, NULL, pd), 0);
	assert_int_equal(pd[0], 0x5000 | P);
	assert_int_equal(pd[1], 0);
	assert_int_equal(pd[3], 0x8000 | P);
	/* Reserved bits in a present entry (R/W, XD, above MAXPHYADDR): #GP. */
	put64(0x1ff0, 0x7000 | P | W);
	assert_int_equal(pae_pdptes_read(0x1fe0, 40, rd, NULL, pd), -1);
	put64(0x1ff0, 0x7000 | P | PTE_NX);
	assert_int_equal(pae_pdptes_read(0x1fe0, 40, rd, NULL, pd), -1);
	put64(0x1ff0, (1ULL << 40) | P);
	assert_int_equal(pae_pdptes_read(0x1fe0, 40, rd, NULL, pd), -1);
	assert_int_equal(pae_pdptes_read(0x1fe0, 41, rd, NULL, pd), 0);
	/* ...but not in a non-present one. */
	put64(0x1ff0, 0x7000 | W);
	assert_int_equal(pae_pdptes_read(0x1fe0, 40, rd, NULL, pd), 0);
	/* A table outside RAM. */
	assert_int_equal(pae_pdptes_read(0x7fffffe0, 40, rd, NULL, pd), -1);
	/* When the reload is due: PAE paging, not IA-32e mode. */
	assert_true(paging_is_pae(CR0_PE | CR0_PG, CR4_PAE, 0));
	assert_false(paging_is_pae(CR0_PE | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA));
	assert_false(paging_is_pae(CR0_PE, CR4_PAE, 0));
	assert_false(paging_is_pae(CR0_PE | CR0_PG, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_supervisor),
		cmocka_unit_test(test_read_only_and_wp),
		cmocka_unit_test(test_not_present),
		cmocka_unit_test(test_pae_nx),
		cmocka_unit_test(test_long_mode_smep_smap),
		cmocka_unit_test(test_pae_pdptes),
	};
	return cmocka_run_group_tests_name("page walk", tests, NULL, NULL);
}
