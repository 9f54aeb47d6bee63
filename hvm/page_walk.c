/*
 * The guest's paging as the CPU applies it (include/keel/page_walk.h).
 *
 * Access rights combine over the levels of the walk (SDM 4.6.1): a page is
 * user-accessible only if every entry on the way has U/S=1, writable only if
 * every entry has R/W=1, and execute-disabled if any entry has XD=1 (with
 * EFER.NXE). Then:
 *   - user mode (CPL 3) may not touch supervisor pages, nor write read-only
 *     ones;
 *   - supervisor mode may write read-only pages only with CR0.WP=0;
 *   - no fetch from an XD page; with CR4.SMEP no supervisor fetch from a
 *     user page; with CR4.SMAP no supervisor data access to a user page
 *     unless RFLAGS.AC=1.
 * The PAE PDPTEs carry no rights (their R/W, U/S and XD positions are
 * reserved). A violation is a #PF whose error code says present (P=1), the
 * kind of access and the mode (SDM 4.7).
 */
#include <keel/page_walk.h>
#include <x86/cpu.h>

#define ADDR_MASK 0x000ffffffffff000ULL

struct rights {
	bool user, writable, nx;
};

static uint64_t phys_reserved(const struct page_walk_mode *m)
{
	unsigned w = m->maxphyaddr ? m->maxphyaddr : 52;
	return w < 52 ? (~0ULL << w) & ((1ULL << 52) - 1) : 0;
}

/* The error code of a fault on this access, P and RSVD aside. */
static uint32_t access_bits(const struct page_walk_mode *m, enum page_access acc, bool pae_or_long)
{
	uint32_t e = 0;
	if (acc == PAGE_WRITE)
		e |= PF_ERR_W;
	if (m->cpl == 3)
		e |= PF_ERR_U;
	if (acc == PAGE_FETCH && ((pae_or_long && (m->efer & EFER_NXE)) || (m->cr4 & CR4_SMEP)))
		e |= PF_ERR_I;
	return e;
}

static bool allowed(const struct page_walk_mode *m, enum page_access acc, struct rights r)
{
	bool user_mode = m->cpl == 3;
	if (acc == PAGE_FETCH) {
		if (r.nx)
			return false;
		if (user_mode)
			return r.user;
		return !(r.user && (m->cr4 & CR4_SMEP));
	}
	if (user_mode) {
		if (!r.user)
			return false;
		return acc != PAGE_WRITE || r.writable;
	}
	if (r.user && (m->cr4 & CR4_SMAP) && !m->ac)
		return false;
	return acc != PAGE_WRITE || r.writable || !(m->cr0 & CR0_WP);
}

/* One level's entry folded into the rights so far. */
static void fold(struct rights *r, uint64_t e, bool has_nx)
{
	r->user = r->user && (e & PTE_US);
	r->writable = r->writable && (e & PTE_RW);
	if (has_nx && (e & PTE_NX))
		r->nx = true;
}

static enum page_walk_status finish(const struct page_walk_mode *m, enum page_access acc, bool pae_or_long,
				    struct rights r, uint64_t pa, uint64_t *gpa, uint32_t *error)
{
	if (!allowed(m, acc, r)) {
		*error = PF_ERR_P | access_bits(m, acc, pae_or_long);
		return PAGE_WALK_FAULT;
	}
	*gpa = pa;
	return PAGE_WALK_OK;
}

static enum page_walk_status not_present(const struct page_walk_mode *m, enum page_access acc, bool pae_or_long,
					 uint32_t *error)
{
	*error = access_bits(m, acc, pae_or_long);
	return PAGE_WALK_FAULT;
}

static enum page_walk_status reserved(const struct page_walk_mode *m, enum page_access acc, bool pae_or_long,
				      uint32_t *error)
{
	*error = PF_ERR_P | PF_ERR_RSVD | access_bits(m, acc, pae_or_long);
	return PAGE_WALK_FAULT;
}

/* PAE and 4-level entries (8 bytes). rsvd: reserved bits of this level. */
static enum page_walk_status walk64(const struct page_walk_mode *m, uint64_t la, enum page_access acc,
				    page_walk_read_fn read, void *ctx, uint64_t *gpa, uint32_t *error)
{
	bool lm = m->efer & EFER_LMA, nxe = m->efer & EFER_NXE;
	uint64_t rsvd = phys_reserved(m) | (nxe ? 0 : PTE_NX);
	struct rights r = { true, true, false };
	uint64_t table, e;
	int level;
	if (lm) {
		table = m->cr3 & ADDR_MASK;
		level = 4;
	} else {
		/* The PDPTE: present, no rights, bits 1-2 and 5-8 reserved. */
		la &= 0xffffffffULL;
		if (!read(ctx, (m->cr3 & 0xffffffe0ULL) + ((la >> 30) & 3) * 8, 8, &e))
			return PAGE_WALK_NO_TABLE;
		if (!(e & PTE_P))
			return not_present(m, acc, true, error);
		if (e & (phys_reserved(m) | 0x1e6ULL | PTE_NX))
			return reserved(m, acc, true, error);
		table = e & ADDR_MASK;
		level = 2;
	}
	for (; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		if (!read(ctx, table + ((la >> shift) & 511) * 8, 8, &e))
			return PAGE_WALK_NO_TABLE;
		if (!(e & PTE_P))
			return not_present(m, acc, true, error);
		uint64_t bad = rsvd;
		if (level == 4)
			bad |= PTE_PS; /* no 512 GiB pages */
		if (bad & e)
			return reserved(m, acc, true, error);
		fold(&r, e, nxe);
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
			uint64_t psize = 1ULL << shift;
			/* A large page's address bits below its size, except the
			 * PAT bit (12), are reserved. */
			if (level > 1 && (e & ADDR_MASK & (psize - 1) & ~0x1000ULL))
				return reserved(m, acc, true, error);
			return finish(m, acc, true, r, (e & ADDR_MASK & ~(psize - 1)) | (la & (psize - 1)), gpa, error);
		}
		table = e & ADDR_MASK;
	}
	return PAGE_WALK_NO_TABLE; /* not reached */
}

enum page_walk_status page_walk(const struct page_walk_mode *m, uint64_t la, enum page_access acc,
				page_walk_read_fn read, void *ctx, uint64_t *gpa, uint32_t *error)
{
	if (!(m->cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffULL;
		return PAGE_WALK_OK;
	}
	if ((m->efer & EFER_LMA) || (m->cr4 & CR4_PAE))
		return walk64(m, la, acc, read, ctx, gpa, error);

	/* 32-bit paging: 4-byte entries, no XD. */
	struct rights r = { true, true, false };
	uint64_t e;
	la &= 0xffffffffULL;
	if (!read(ctx, (m->cr3 & 0xfffff000ULL) + (la >> 22) * 4, 4, &e))
		return PAGE_WALK_NO_TABLE;
	if (!(e & PTE_P))
		return not_present(m, acc, false, error);
	fold(&r, e, false);
	if ((e & PTE_PS) && (m->cr4 & CR4_PSE)) {
		/* 4 MiB page; bits 20:13 give physical bits 39:32 (PSE-36). */
		uint64_t pa = (e & 0xffc00000ULL) | ((e >> 13) & 0xffULL) << 32 | (la & 0x3fffff);
		if ((e & (1ULL << 21)) || (pa & phys_reserved(m)))
			return reserved(m, acc, false, error);
		return finish(m, acc, false, r, pa, gpa, error);
	}
	if (!read(ctx, (e & 0xfffff000ULL) + ((la >> 12) & 1023) * 4, 4, &e))
		return PAGE_WALK_NO_TABLE;
	if (!(e & PTE_P))
		return not_present(m, acc, false, error);
	fold(&r, e, false);
	return finish(m, acc, false, r, (e & 0xfffff000ULL) | (la & 0xfff), gpa, error);
}

bool paging_is_pae(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA);
}

int pae_pdptes_read(uint64_t cr3, unsigned maxphyaddr, page_walk_read_fn read, void *ctx, uint64_t pdpte[4])
{
	struct page_walk_mode m = { .maxphyaddr = maxphyaddr };
	uint64_t reserved = phys_reserved(&m) | 0x1e6ULL | PTE_NX;
	for (unsigned i = 0; i < 4; i++) {
		if (!read(ctx, (cr3 & 0xffffffe0ULL) + i * 8, 8, &pdpte[i]))
			return -1;
		if ((pdpte[i] & PTE_P) && (pdpte[i] & reserved))
			return -1;
	}
	return 0;
}
