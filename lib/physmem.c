/*
 * From the boot loader's memory map to the RAM Keel uses (see physmem.h).
 *
 * The map is cut at every entry boundary into elementary intervals; each
 * is usable when some RAM entry covers it and no entry of another type
 * does. With at most BOOTINFO_MAX_MMAP entries that is a few hundred
 * intervals, each checked against every entry: cheap, and it needs no
 * assumption about order or overlaps.
 */
#include <keel/format.h>
#include <keel/physmem.h>
#include <keel/string.h>
#include <stdarg.h>

#define MIN_PHYS_BITS 36 /* every x86-64 CPU addresses at least 64 GiB */
#define MAX_PHYS_BITS 52

static void warn(struct physmem_plan *p, const char *fmt, ...) __printf(2, 3);
static void warn(struct physmem_plan *p, const char *fmt, ...)
{
	if (p->nr_warnings == PHYSMEM_MAX_WARNINGS) {
		p->warnings_dropped++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(p->warnings[p->nr_warnings++], sizeof(p->warnings[0]), fmt, ap);
	va_end(ap);
}

static uint64_t entry_end(const struct mem_region *r)
{
	return r->base + r->len < r->base ? UINT64_MAX : r->base + r->len;
}

static bool is_ram(const struct mem_region *r) { return r->type == MEM_RAM; }

/* Entries Keel reads through the identity map: its RAM and the ACPI
 * tables (which firmware may put in reclaimable or NVS memory). */
static bool wants_mapping(const struct mem_region *r)
{
	return r->type == MEM_RAM || r->type == MEM_ACPI_RECLAIM || r->type == MEM_ACPI_NVS;
}

/* The entries clipped to the address limit; RAM that had to be cut is
 * reported. Returns how many are kept. */
static unsigned clip_entries(const struct mem_region *map, unsigned n, uint64_t limit, struct mem_region *out,
			     unsigned *index, struct physmem_plan *p)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct mem_region r = map[i];
		uint64_t end = entry_end(&r);
		if (r.len == 0)
			continue;
		if (r.base >= limit || end > limit) {
			if (is_ram(&r))
				warn(p, "memory-map entry %u (RAM %#llx-%#llx) %s beyond %s (%llu GiB); not used", i,
				     (unsigned long long)r.base, (unsigned long long)(end - 1),
				     r.base >= limit ? "lies" : "reaches",
				     limit == PHYSMEM_LIMIT ? "Keel's limit" : "the CPU's physical address width",
				     (unsigned long long)(limit >> 30));
			if (r.base >= limit)
				continue;
			r.len = limit - r.base;
		}
		index[k] = i;
		out[k++] = r;
	}
	return k;
}

static void report_overlaps(const struct mem_region *e, const unsigned *index, unsigned n, struct physmem_plan *p)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++) {
			if (!is_ram(&e[i]) && !is_ram(&e[j]))
				continue; /* only RAM's overlaps change what Keel uses */
			if (e[i].base >= entry_end(&e[j]) || e[j].base >= entry_end(&e[i]))
				continue;
			bool both = is_ram(&e[i]) && is_ram(&e[j]);
			warn(p, "memory-map entries %u (%s at %#llx) and %u (%s at %#llx) overlap; %s", index[i],
			     mem_region_type_name(e[i].type), (unsigned long long)e[i].base, index[j],
			     mem_region_type_name(e[j].type), (unsigned long long)e[j].base,
			     both ? "merged" : "the overlap is not used");
		}
}

static void sort_u64(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint64_t x = v[i];
		unsigned j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Is [a, b) covered by RAM and by nothing else? (It lies inside or outside
 * each entry, since every boundary is a cut point.) */
static bool usable(const struct mem_region *e, unsigned n, uint64_t a)
{
	bool ram = false;
	for (unsigned i = 0; i < n; i++) {
		if (a < e[i].base || a >= entry_end(&e[i]))
			continue;
		if (!is_ram(&e[i]))
			return false;
		ram = true;
	}
	return ram;
}

static void add_range(struct physmem_plan *p, uint64_t a, uint64_t b)
{
	a = ALIGN_UP(a, PAGE_SIZE);
	b = ALIGN_DOWN(b, PAGE_SIZE);
	if (a >= b)
		return;
	if (p->nr_ram == PHYSMEM_MAX_RANGES) {
		warn(p, "more than %d usable RAM ranges; RAM from %#llx on is not used", PHYSMEM_MAX_RANGES,
		     (unsigned long long)a);
		return;
	}
	p->ram[p->nr_ram++] = (struct physmem_range){ a, b };
	p->ram_bytes += b - a;
	p->ram_top = b;
}

unsigned physmem_plan(const struct mem_region *map, unsigned n, unsigned maxphyaddr, struct physmem_plan *p)
{
	struct mem_region e[BOOTINFO_MAX_MMAP]; /* about 5 KiB of stack in all */
	unsigned index[BOOTINFO_MAX_MMAP];
	uint64_t cut[2 * BOOTINFO_MAX_MMAP];

	memset(p, 0, sizeof(*p));
	if (n > BOOTINFO_MAX_MMAP)
		n = BOOTINFO_MAX_MMAP;
	if (maxphyaddr < MIN_PHYS_BITS || maxphyaddr > MAX_PHYS_BITS)
		maxphyaddr = MIN_PHYS_BITS;
	uint64_t limit = 1ULL << maxphyaddr;
	if (limit > PHYSMEM_LIMIT)
		limit = PHYSMEM_LIMIT;

	unsigned k = clip_entries(map, n, limit, e, index, p);
	report_overlaps(e, index, k, p);

	unsigned nc = 0;
	for (unsigned i = 0; i < k; i++) {
		cut[nc++] = e[i].base;
		cut[nc++] = entry_end(&e[i]);
		if (wants_mapping(&e[i]) && entry_end(&e[i]) > p->map_top)
			p->map_top = entry_end(&e[i]);
	}
	sort_u64(cut, nc);

	/* Walk the intervals in address order, joining usable neighbours. */
	bool open = false;
	uint64_t start = 0;
	for (unsigned i = 0; i + 1 < nc; i++) {
		if (cut[i] == cut[i + 1])
			continue;
		bool u = usable(e, k, cut[i]);
		if (u && !open) {
			start = cut[i];
			open = true;
		} else if (!u && open) {
			add_range(p, start, cut[i]);
			open = false;
		}
	}
	if (open)
		add_range(p, start, cut[nc - 1]);
	return p->nr_ram;
}
