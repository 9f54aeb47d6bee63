/*
 * EPT tables. Leaves carry memory type WB (SDM 29.3.7) with "ignore PAT"
 * clear, so the guest's own PAT still applies on top, as on bare metal.
 * Large leaves are used whenever GPA, HPA and the remaining size allow; a
 * later smaller change inside a large leaf splits it into the next level,
 * keeping every other translation as it was.
 */
#include <keel/ept.h>
#include <x86/vmx.h>

#define EPT_LEVELS 4
#define ENTRIES 512
#define GPA_LIMIT (1ULL << 48)

static uint64_t *table_of(uint64_t entry) { return (uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK); }
static bool present(uint64_t e) { return e & EPT_RWX; }
static uint64_t level_size(int level) { return 1ULL << (12 + 9 * (level - 1)); }
static unsigned index_of(uint64_t gpa, int level) { return (gpa >> (12 + 9 * (level - 1))) & 511; }

static uint64_t *new_table(struct ept *e)
{
	uint64_t *t = e->alloc_table(e->ctx);
	if (t)
		e->nr_table_pages++;
	return t;
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

static bool leaf_allowed(const struct ept *e, int level)
{
	return level == 1 || (level == 2 && e->allow_2m) || (level == 3 && e->allow_1g);
}

/* Replaces a large leaf by a table of next-level leaves with the same
 * translation. */
static int split(struct ept *e, uint64_t *entry, int level)
{
	uint64_t *t = new_table(e);
	if (!t)
		return -1;
	uint64_t old = *entry;
	uint64_t base = old & EPT_ADDR_MASK & ~(level_size(level) - 1);
	uint64_t attrs = old & ~EPT_ADDR_MASK & ~EPT_LARGE;
	uint64_t sub = level_size(level - 1);
	for (unsigned i = 0; i < ENTRIES; i++)
		t[i] = (base + i * sub) | attrs | (level - 1 > 1 ? EPT_LARGE : 0);
	*entry = (uint64_t)(uintptr_t)t | EPT_RWX;
	return 0;
}

static void free_tree(struct ept *e, uint64_t *t, int level)
{
	if (level > 1)
		for (unsigned i = 0; i < ENTRIES; i++)
			if (present(t[i]) && !(t[i] & EPT_LARGE))
				free_tree(e, table_of(t[i]), level - 1);
	e->free_table(e->ctx, t);
	e->nr_table_pages--;
}

/* Sets (map) or clears (unmap) one leaf of `level` at gpa, creating or
 * splitting tables on the way down. */
static int set_leaf(struct ept *e, uint64_t gpa, uint64_t hpa, int target, uint64_t perms, bool map)
{
	uint64_t *t = e->pml4;
	for (int level = EPT_LEVELS; level > target; level--) {
		uint64_t *entry = &t[index_of(gpa, level)];
		if (!present(*entry)) {
			if (!map)
				return 0; /* nothing mapped here */
			uint64_t *nt = new_table(e);
			if (!nt)
				return -1;
			*entry = (uint64_t)(uintptr_t)nt | EPT_RWX;
		} else if (*entry & EPT_LARGE) {
			if (split(e, entry, level) < 0)
				return -1;
		}
		t = table_of(*entry);
	}
	uint64_t *entry = &t[index_of(gpa, target)];
	if (present(*entry) && !(*entry & EPT_LARGE) && target > 1)
		free_tree(e, table_of(*entry), target - 1); /* a smaller mapping is replaced */
	if (map)
		*entry = hpa | perms | EPT_MEMTYPE_WB | (target > 1 ? EPT_LARGE : 0);
	else
		*entry = 0;
	return 0;
}

static int walk_range(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, bool map)
{
	if ((gpa | hpa | size) & (PAGE_SIZE - 1) || gpa >= GPA_LIMIT || size > GPA_LIMIT - gpa ||
	    (map && !(perms & EPT_RWX)) || (perms & ~EPT_RWX))
		return -1;
	while (size) {
		int level = 3;
		while (level > 1 && !(leaf_allowed(e, level) && (gpa % level_size(level)) == 0 &&
				      (!map || (hpa % level_size(level)) == 0) && size >= level_size(level)))
			level--;
		if (set_leaf(e, gpa, hpa, level, perms, map) < 0)
			return -1;
		gpa += level_size(level);
		hpa += level_size(level);
		size -= level_size(level);
	}
	return 0;
}

int ept_map_range(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms)
{
	return walk_range(e, gpa, hpa, size, perms, true);
}

int ept_unmap_range(struct ept *e, uint64_t gpa, uint64_t size) { return walk_range(e, gpa, 0, size, 0, false); }

bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms, int *level)
{
	if (gpa >= GPA_LIMIT || !e->pml4)
		return false;
	const uint64_t *t = e->pml4;
	for (int l = EPT_LEVELS; l >= 1; l--) {
		uint64_t entry = t[index_of(gpa, l)];
		if (!present(entry))
			return false;
		if (l == 1 || (entry & EPT_LARGE)) {
			uint64_t sz = level_size(l);
			*hpa = (entry & EPT_ADDR_MASK & ~(sz - 1)) | (gpa & (sz - 1));
			*perms = entry & EPT_RWX;
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
