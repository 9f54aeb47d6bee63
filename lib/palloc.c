/* Physical page allocator: one bit per 4 KiB page, first fit with
 * alignment. Searches skip whole used bytes, so a 4 GiB map (128 KiB of
 * bitmap) is scanned quickly even when mostly full. */
#include <keel/palloc.h>
#include <keel/string.h>

static bool used(const struct palloc *pa, uint64_t p) { return pa->bitmap[p / 8] & (1u << (p % 8)); }

static void set_range(struct palloc *pa, uint64_t first, uint64_t n, bool use)
{
	for (uint64_t p = first; p < first + n; p++) {
		bool u = used(pa, p);
		if (use && !u) {
			pa->bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
			pa->free_pages--;
		} else if (!use && u) {
			pa->bitmap[p / 8] &= (uint8_t)~(1u << (p % 8));
			pa->free_pages++;
		}
	}
}

void palloc_init(struct palloc *pa, uint8_t *bitmap, uint64_t limit_bytes)
{
	pa->bitmap = bitmap;
	pa->nr_pages = limit_bytes / PAGE_SIZE;
	pa->free_pages = 0;
	pa->hint = 0;
	pa->double_frees = 0;
	memset(bitmap, 0xff, (pa->nr_pages + 7) / 8);
}

void palloc_add_free(struct palloc *pa, uint64_t base, uint64_t len)
{
	if (len == 0 || base + len < base)
		return;
	uint64_t first = ALIGN_UP(base, PAGE_SIZE) / PAGE_SIZE;
	uint64_t last = ALIGN_DOWN(base + len, PAGE_SIZE) / PAGE_SIZE; /* exclusive */
	if (last > pa->nr_pages)
		last = pa->nr_pages;
	if (first == 0)
		first = 1; /* page 0 means "no page" */
	if (first < last)
		set_range(pa, first, last - first, false);
}

void palloc_reserve(struct palloc *pa, uint64_t base, uint64_t len)
{
	if (len == 0)
		return;
	uint64_t end = base + len < base ? ~0ULL : base + len;
	uint64_t first = base / PAGE_SIZE;
	uint64_t last = ALIGN_UP(end, PAGE_SIZE) / PAGE_SIZE;
	if (end > ~0ULL - PAGE_SIZE)
		last = pa->nr_pages;
	if (last > pa->nr_pages)
		last = pa->nr_pages;
	if (first < last)
		set_range(pa, first, last - first, true);
}

/* First page >= p that is free, or nr_pages. */
static uint64_t next_free(const struct palloc *pa, uint64_t p)
{
	while (p < pa->nr_pages) {
		if (p % 8 == 0 && pa->bitmap[p / 8] == 0xff) {
			p += 8;
			continue;
		}
		if (!used(pa, p))
			return p;
		p++;
	}
	return pa->nr_pages;
}

static uint64_t search(const struct palloc *pa, uint64_t from, uint64_t to, uint64_t npages, uint64_t align_pages)
{
	uint64_t p = from;
	while (p < to) {
		p = next_free(pa, p);
		p = ALIGN_UP(p, align_pages);
		if (p == 0)
			p = align_pages;
		if (p + npages > to || p + npages > pa->nr_pages)
			return 0;
		uint64_t i;
		for (i = 0; i < npages; i++)
			if (used(pa, p + i))
				break;
		if (i == npages)
			return p;
		p += i + 1;
	}
	return 0;
}

uint64_t palloc_alloc(struct palloc *pa, uint64_t npages, uint64_t align_bytes)
{
	if (npages == 0 || npages > pa->free_pages)
		return 0;
	if (align_bytes < PAGE_SIZE || (align_bytes & (align_bytes - 1)))
		align_bytes = PAGE_SIZE;
	uint64_t align = align_bytes / PAGE_SIZE;
	uint64_t start = ALIGN_UP(pa->hint, align);
	uint64_t p = search(pa, start, pa->nr_pages, npages, align);
	if (!p)
		p = search(pa, 1, MIN(pa->nr_pages, start + npages), npages, align);
	if (!p)
		return 0;
	set_range(pa, p, npages, true);
	pa->hint = p + npages;
	return p * PAGE_SIZE;
}

void palloc_free(struct palloc *pa, uint64_t addr, uint64_t npages)
{
	uint64_t first = addr / PAGE_SIZE;
	if (addr % PAGE_SIZE || first == 0 || first + npages > pa->nr_pages || first + npages < first) {
		pa->double_frees++; /* invalid free: counted, ignored */
		return;
	}
	for (uint64_t p = first; p < first + npages; p++) {
		if (!used(pa, p)) {
			pa->double_frees++;
			continue;
		}
		set_range(pa, p, 1, false);
	}
}

uint64_t palloc_free_bytes(const struct palloc *pa) { return pa->free_pages * PAGE_SIZE; }

uint64_t palloc_largest_free_run(const struct palloc *pa, uint64_t align_bytes)
{
	uint64_t align = align_bytes < PAGE_SIZE ? 1 : align_bytes / PAGE_SIZE;
	uint64_t best = 0, p = 1;
	while (p < pa->nr_pages) {
		p = next_free(pa, p);
		if (p >= pa->nr_pages)
			break;
		uint64_t q = p;
		while (q < pa->nr_pages && !used(pa, q))
			q++;
		uint64_t a = ALIGN_UP(p, align);
		if (a < q && q - a > best)
			best = q - a;
		p = q;
	}
	return best * PAGE_SIZE;
}
