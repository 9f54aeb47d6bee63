/*
 * EPT tables (SDM Vol. 3C 29.3).
 *
 * Four levels of 512 eight-byte entries, each level translating 9 bits of
 * the guest-physical address: PML4 (bits 47:39), PDPT (38:30), PD (29:21),
 * PT (20:12). Level numbers here count from the bottom: 1 = PT, 4 = PML4,
 * so a leaf at level L maps 4 KiB << 9*(L-1).
 *
 * An entry is present when any of R/W/X is set. A non-leaf entry holds the
 * next table's address and RWX (the CPU ANDs permissions down the walk, so
 * the leaf alone decides them); its bits 7:3 must be 0. A PDPT or PD entry
 * with bit 7 ("page size") set is a 1 GiB or 2 MiB leaf; a leaf holds the
 * address, the permissions and the memory type in bits 5:3 (WB here, IPAT
 * clear; see ept.h).
 *
 * Every change walks the range once, top down: an entry the range covers
 * whole becomes a leaf (or is cleared), freeing any table below it; an
 * entry covered in part gets a table (new, or made by splitting its large
 * leaf into 512 smaller leaves with the same translation) and the walk goes
 * down. Tables an unmap leaves empty are freed on the way back up.
 */
#include <keel/ept.h>
#include <keel/string.h>
#include <x86/vmx.h>

#define EPT_LEVELS 4
#define EPT_ENTRIES 512
#define EPT_GPA_LIMIT (1ULL << 48) /* 4-level walk: 48-bit guest-physical addresses */
#define EPT_HPA_LIMIT (1ULL << 52) /* bits 51:12 of an entry hold the address */

struct ept_op {
	bool map;
	uint64_t delta; /* hpa - gpa (mod 2^64) */
	uint64_t perms;
};

static unsigned level_shift(int level) { return 12 + 9 * (unsigned)(level - 1); }
static uint64_t level_size(int level) { return 1ULL << level_shift(level); }
static unsigned index_of(uint64_t gpa, int level) { return (unsigned)(gpa >> level_shift(level)) & (EPT_ENTRIES - 1); }
static bool present(uint64_t entry) { return entry & EPT_RWX; }
static bool is_leaf(uint64_t entry, int level) { return level == 1 || (entry & EPT_LARGE); }
static uint64_t *table_of(uint64_t entry) { return (uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK); }
static uint64_t leaf_address(uint64_t entry, int level) { return entry & EPT_ADDR_MASK & ~(level_size(level) - 1); }

static uint64_t make_leaf(uint64_t hpa, int level, uint64_t perms)
{
	return hpa | perms | EPT_MEMTYPE_WB | (level > 1 ? EPT_LARGE : 0);
}

static uint64_t *new_table(struct ept *e)
{
	uint64_t *t = e->alloc_table(e->ctx);
	if (!t)
		return NULL;
	if ((uintptr_t)t & (PAGE_SIZE - 1) || (uint64_t)(uintptr_t)t >= EPT_HPA_LIMIT) {
		e->free_table(e->ctx, t); /* unusable as a table address */
		return NULL;
	}
	/* The callback promises a zeroed page; a stale entry in a new table
	 * would map guest memory somewhere random, so make sure. */
	memset(t, 0, PAGE_SIZE);
	e->nr_table_pages++;
	return t;
}

static void free_tree(struct ept *e, uint64_t *t, int level)
{
	if (level > 1)
		for (unsigned i = 0; i < EPT_ENTRIES; i++)
			if (present(t[i]) && !is_leaf(t[i], level))
				free_tree(e, table_of(t[i]), level - 1);
	e->free_table(e->ctx, t);
	e->nr_table_pages--;
}

static bool table_empty(const uint64_t *t)
{
	for (unsigned i = 0; i < EPT_ENTRIES; i++)
		if (t[i])
			return false;
	return true;
}

int ept_init(struct ept *e)
{
	e->nr_table_pages = 0;
	e->pml4 = new_table(e);
	return e->pml4 ? 0 : -1;
}

uint64_t ept_pointer(const struct ept *e)
{
	return (uint64_t)(uintptr_t)e->pml4 | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
}

/* The range covers the whole entry at `level` for gpa: can it become one
 * leaf? Unmapping, any entry (a PML4 entry included) can simply be cleared. */
static bool whole_entry_ok(const struct ept *e, int level, uint64_t gpa, const struct ept_op *op)
{
	if (!op->map || level == 1)
		return true;
	bool allowed = (level == 2 && e->allow_2m) || (level == 3 && e->allow_1g);
	return allowed && ((gpa + op->delta) & (level_size(level) - 1)) == 0;
}

/* Replaces a large leaf by a table of 512 leaves one level down with the
 * same addresses and attributes. */
static int split(struct ept *e, uint64_t *entry, int level)
{
	uint64_t *t = new_table(e);
	if (!t)
		return -1;
	uint64_t base = leaf_address(*entry, level);
	uint64_t attrs = *entry & ~EPT_ADDR_MASK & ~EPT_LARGE;
	uint64_t step = level_size(level - 1);
	for (unsigned i = 0; i < EPT_ENTRIES; i++)
		t[i] = (base + i * step) | attrs | (level - 1 > 1 ? EPT_LARGE : 0);
	*entry = (uint64_t)(uintptr_t)t | EPT_RWX;
	return 0;
}

/* Applies op to [gpa, end), which lies inside the part of the address
 * space that `table` (at `level`) translates. */
static int update(struct ept *e, uint64_t *table, int level, uint64_t gpa, uint64_t end, const struct ept_op *op)
{
	uint64_t size = level_size(level);
	while (gpa < end) {
		uint64_t *entry = &table[index_of(gpa, level)];
		uint64_t slot_end = ALIGN_DOWN(gpa, size) + size;
		uint64_t stop = end < slot_end ? end : slot_end;

		if (gpa % size == 0 && stop == slot_end && whole_entry_ok(e, level, gpa, op)) {
			uint64_t old = *entry;
			*entry = op->map ? make_leaf(gpa + op->delta, level, op->perms) : 0;
			if (present(old) && !is_leaf(old, level))
				free_tree(e, table_of(old), level - 1);
		} else {
			if (!present(*entry)) {
				if (!op->map) {
					gpa = stop; /* nothing mapped here */
					continue;
				}
				uint64_t *t = new_table(e);
				if (!t)
					return -1;
				*entry = (uint64_t)(uintptr_t)t | EPT_RWX;
			} else if (is_leaf(*entry, level)) {
				if (split(e, entry, level) < 0)
					return -1;
			}
			int r = update(e, table_of(*entry), level - 1, gpa, stop, op);
			if (table_empty(table_of(*entry))) {
				/* an unmap emptied it, or a map failed before filling it */
				free_tree(e, table_of(*entry), level - 1);
				*entry = 0;
			}
			if (r < 0)
				return -1;
		}
		gpa = stop;
	}
	return 0;
}

static bool range_ok(uint64_t gpa, uint64_t size)
{
	return (gpa | size) % PAGE_SIZE == 0 && gpa < EPT_GPA_LIMIT && size <= EPT_GPA_LIMIT - gpa;
}

int ept_map_range(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms)
{
	if (!e->pml4 || !range_ok(gpa, size) || hpa % PAGE_SIZE || hpa >= EPT_HPA_LIMIT ||
	    size > EPT_HPA_LIMIT - hpa)
		return -1;
	/* SDM 29.3.3.1: write without read is a misconfiguration, and so is
	 * execute-only unless the CPU supports it. */
	if (!(perms & EPT_RWX) || (perms & ~EPT_RWX) || ((perms & EPT_WRITE) && !(perms & EPT_READ)) ||
	    (perms == EPT_EXEC && !e->allow_exec_only))
		return -1;
	struct ept_op op = { .map = true, .delta = hpa - gpa, .perms = perms };
	return update(e, e->pml4, EPT_LEVELS, gpa, gpa + size, &op);
}

int ept_unmap_range(struct ept *e, uint64_t gpa, uint64_t size)
{
	if (!e->pml4 || !range_ok(gpa, size))
		return -1;
	struct ept_op op = { .map = false };
	return update(e, e->pml4, EPT_LEVELS, gpa, gpa + size, &op);
}

bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms, int *level)
{
	if (!e->pml4 || gpa >= EPT_GPA_LIMIT)
		return false;
	const uint64_t *t = e->pml4;
	for (int l = EPT_LEVELS; l >= 1; l--) {
		uint64_t entry = t[index_of(gpa, l)];
		if (!present(entry))
			return false;
		if (l < EPT_LEVELS && is_leaf(entry, l)) {
			if (hpa)
				*hpa = leaf_address(entry, l) | (gpa & (level_size(l) - 1));
			if (perms)
				*perms = entry & EPT_RWX;
			if (level)
				*level = l;
			return true;
		}
		t = table_of(entry);
	}
	return false;
}

void ept_destroy(struct ept *e)
{
	if (e->pml4)
		free_tree(e, e->pml4, EPT_LEVELS);
	e->pml4 = NULL;
}
