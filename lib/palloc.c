/*
 * Physical page allocator: one bit per 4 KiB page (set = used), first fit
 * with alignment.
 *
 * The bitmap is read and written 64 pages at a time, so a search skips a
 * fully used or fully free stretch of 256 KiB in one step: the whole 4 GiB
 * map is 16384 words. A search for an aligned run jumps from a used page
 * straight to the next free page and then to the next aligned start, so
 * even 1 GiB alignment costs a few word reads per candidate.
 *
 * The bitmap need not be 8-byte aligned: words are moved with
 * __builtin_memcpy, which the compiler turns into plain loads and stores
 * even in a freestanding build. Bits past nr_pages read as used.
 */
#include <keel/palloc.h>
#include <keel/string.h>

#define WORD_BITS 64

static uint64_t nr_bytes(const struct palloc *pa) { return (pa->nr_pages + 7) / 8; }

static unsigned popcount64(uint64_t v)
{
	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((v * 0x0101010101010101ULL) >> 56);
}

/* Word w of the bitmap: pages w*64 .. w*64+63, bit i = page w*64+i. */
static uint64_t load_word(const struct palloc *pa, uint64_t w)
{
	uint64_t off = w * 8, avail = nr_bytes(pa) - off, v = ~0ULL;
	if (avail >= 8) {
		__builtin_memcpy(&v, pa->bitmap + off, 8);
	} else {
		for (uint64_t i = 0; i < avail; i++) {
			v &= ~(0xffULL << (i * 8));
			v |= (uint64_t)pa->bitmap[off + i] << (i * 8);
		}
	}
	uint64_t first = w * WORD_BITS;
	if (pa->nr_pages - first < WORD_BITS)
		v |= ~0ULL << (pa->nr_pages - first); /* past the limit: used */
	return v;
}

static void store_word(struct palloc *pa, uint64_t w, uint64_t v)
{
	uint64_t off = w * 8, avail = nr_bytes(pa) - off;
	if (avail >= 8) {
		__builtin_memcpy(pa->bitmap + off, &v, 8);
	} else {
		for (uint64_t i = 0; i < avail; i++)
			pa->bitmap[off + i] = (uint8_t)(v >> (i * 8));
	}
}

/* Bits of word w that fall in pages [first, end). */
static uint64_t range_mask(uint64_t w, uint64_t first, uint64_t end)
{
	uint64_t lo = w * WORD_BITS, hi = lo + WORD_BITS;
	uint64_t a = first > lo ? first - lo : 0, b = end < hi ? end - lo : WORD_BITS;
	uint64_t upto_b = b == WORD_BITS ? ~0ULL : (1ULL << b) - 1;
	return upto_b & ~((1ULL << a) - 1);
}

/* Marks pages [first, end) used (use) or free; returns how many changed.
 * The caller has clipped end to nr_pages. */
static uint64_t mark(struct palloc *pa, uint64_t first, uint64_t end, bool use)
{
	uint64_t changed = 0;
	if (first >= end)
		return 0;
	for (uint64_t w = first / WORD_BITS; w <= (end - 1) / WORD_BITS; w++) {
		uint64_t m = range_mask(w, first, end), old = load_word(pa, w);
		uint64_t v = use ? old | m : old & ~m;
		if (v != old) {
			changed += popcount64(v ^ old);
			store_word(pa, w, v);
		}
	}
	return changed;
}

/* First page in [p, end) whose bit equals `used`, or end. */
static uint64_t find(const struct palloc *pa, uint64_t p, uint64_t end, bool used)
{
	if (end > pa->nr_pages)
		end = pa->nr_pages;
	if (p >= end)
		return end;
	uint64_t w = p / WORD_BITS;
	uint64_t v = used ? load_word(pa, w) : ~load_word(pa, w);
	v &= ~0ULL << (p % WORD_BITS);
	while (!v) {
		w++;
		if (w * WORD_BITS >= end)
			return end;
		v = used ? load_word(pa, w) : ~load_word(pa, w);
	}
	uint64_t q = w * WORD_BITS + (uint64_t)__builtin_ctzll(v);
	return q < end ? q : end;
}

static uint64_t find_free(const struct palloc *pa, uint64_t p) { return find(pa, p, pa->nr_pages, false); }
static uint64_t find_used(const struct palloc *pa, uint64_t p, uint64_t end) { return find(pa, p, end, true); }

void palloc_init(struct palloc *pa, uint8_t *bitmap, uint64_t limit_bytes)
{
	pa->bitmap = bitmap;
	pa->nr_pages = limit_bytes / PAGE_SIZE;
	pa->free_pages = 0;
	pa->total_pages = 0;
	pa->hint = 1;
	pa->double_frees = 0;
	memset(bitmap, 0xff, nr_bytes(pa));
}

void palloc_grow(struct palloc *pa, uint8_t *bitmap, uint64_t limit_bytes)
{
	uint64_t old_bytes = nr_bytes(pa), old_pages = pa->nr_pages;
	uint64_t new_pages = limit_bytes / PAGE_SIZE;
	if (new_pages <= old_pages)
		return;
	uint64_t new_bytes = (new_pages + 7) / 8;
	memset(bitmap, 0xff, new_bytes);
	memcpy(bitmap, pa->bitmap, old_bytes);
	/* The old bitmap's last byte may hold bits past its limit that were
	 * never written as "used": pages there are not RAM yet. */
	if (old_pages % 8)
		bitmap[old_bytes - 1] |= (uint8_t)(0xff << (old_pages % 8));
	pa->bitmap = bitmap;
	pa->nr_pages = new_pages;
}

void palloc_add_free(struct palloc *pa, uint64_t base, uint64_t len)
{
	if (len == 0)
		return;
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	if (base > UINT64_MAX - (PAGE_SIZE - 1))
		return; /* no whole page starts at or after base */
	uint64_t first = ALIGN_UP(base, PAGE_SIZE) / PAGE_SIZE; /* inward: only whole pages */
	uint64_t last = end / PAGE_SIZE;
	if (last > pa->nr_pages)
		last = pa->nr_pages;
	if (first == 0)
		first = 1; /* page 0 stands for "no page" */
	uint64_t n = mark(pa, first, last, false);
	pa->free_pages += n;
	pa->total_pages += n;
	if (n && first < pa->hint)
		pa->hint = first;
}

void palloc_reserve(struct palloc *pa, uint64_t base, uint64_t len)
{
	if (len == 0)
		return;
	uint64_t first = base / PAGE_SIZE; /* outward: every page touched */
	uint64_t last;
	if (base + len < base || base + len > UINT64_MAX - (PAGE_SIZE - 1))
		last = pa->nr_pages;
	else
		last = ALIGN_UP(base + len, PAGE_SIZE) / PAGE_SIZE;
	if (last > pa->nr_pages)
		last = pa->nr_pages;
	uint64_t n = mark(pa, first, last, true);
	pa->free_pages -= n;
	pa->total_pages -= n;
}

/* Lowest start >= from of npages free pages, aligned to align pages; 0 if
 * there is none. */
static uint64_t search(const struct palloc *pa, uint64_t from, uint64_t npages, uint64_t align)
{
	uint64_t p = from;
	for (;;) {
		p = find_free(pa, p);
		uint64_t a = ALIGN_UP(p, align);
		if (a == 0)
			a = align;
		if (a > pa->nr_pages || npages > pa->nr_pages - a)
			return 0;
		uint64_t u = find_used(pa, a, a + npages);
		if (u == a + npages)
			return a;
		p = u + 1; /* no run containing page u; go on after it */
	}
}

uint64_t palloc_alloc(struct palloc *pa, uint64_t npages, uint64_t align_bytes)
{
	return palloc_alloc_below(pa, npages, align_bytes, UINT64_MAX);
}

uint64_t palloc_alloc_below(struct palloc *pa, uint64_t npages, uint64_t align_bytes, uint64_t limit_bytes)
{
	if (npages == 0 || npages > pa->free_pages)
		return 0;
	if (align_bytes & (align_bytes - 1))
		return 0; /* not a power of two: a caller bug */
	uint64_t align = align_bytes > PAGE_SIZE ? align_bytes / PAGE_SIZE : 1;
	pa->hint = find_free(pa, pa->hint); /* nothing below the hint is free */
	uint64_t p = search(pa, pa->hint, npages, align);
	/* First fit: the run found is the lowest there is, so if it does not
	 * end below the limit no run does. */
	if (!p || p + npages > limit_bytes / PAGE_SIZE)
		return 0;
	pa->free_pages -= mark(pa, p, p + npages, true);
	if (p == pa->hint)
		pa->hint = p + npages;
	return p * PAGE_SIZE;
}

#define NO_PAGE UINT64_MAX

/* Highest page in [lo, p) whose bit equals `used`, or NO_PAGE. */
static uint64_t find_last(const struct palloc *pa, uint64_t lo, uint64_t p, bool used)
{
	if (p > pa->nr_pages)
		p = pa->nr_pages;
	while (p > lo) {
		uint64_t q = p - 1, w = q / WORD_BITS;
		uint64_t v = used ? load_word(pa, w) : ~load_word(pa, w);
		unsigned b = (unsigned)(q % WORD_BITS);
		if (b != WORD_BITS - 1)
			v &= (1ULL << (b + 1)) - 1; /* pages above q do not count */
		if (v) {
			uint64_t r = w * WORD_BITS + (WORD_BITS - 1 - (uint64_t)__builtin_clzll(v));
			return r >= lo ? r : NO_PAGE;
		}
		p = w * WORD_BITS;
	}
	return NO_PAGE;
}

uint64_t palloc_alloc_top(struct palloc *pa, uint64_t npages, uint64_t align_bytes)
{
	if (npages == 0 || npages > pa->free_pages || (align_bytes & (align_bytes - 1)))
		return 0;
	uint64_t align = align_bytes > PAGE_SIZE ? align_bytes / PAGE_SIZE : 1;
	uint64_t p = pa->nr_pages;
	for (;;) {
		uint64_t last_free = find_last(pa, 1, p, false);
		if (last_free == NO_PAGE)
			return 0;
		uint64_t used = find_last(pa, 0, last_free, true);
		uint64_t first_free = used == NO_PAGE ? 1 : used + 1; /* the free run is [first_free, last_free] */
		if (last_free + 1 - first_free >= npages) {
			uint64_t a = ALIGN_DOWN(last_free + 1 - npages, align);
			if (a >= first_free) {
				pa->free_pages -= mark(pa, a, a + npages, true);
				return a * PAGE_SIZE;
			}
		}
		p = first_free;
	}
}

int palloc_try_free(struct palloc *pa, uint64_t addr, uint64_t npages)
{
	if (npages == 0)
		return 0;
	uint64_t first = addr / PAGE_SIZE;
	if (addr % PAGE_SIZE || first == 0 || first >= pa->nr_pages || npages > pa->nr_pages - first)
		return -1;
	if (find_free(pa, first) < first + npages)
		return -1; /* part of it is already free */
	pa->free_pages += mark(pa, first, first + npages, false);
	if (first < pa->hint)
		pa->hint = first;
	return 0;
}

void palloc_free(struct palloc *pa, uint64_t addr, uint64_t npages)
{
	if (palloc_try_free(pa, addr, npages) < 0)
		pa->double_frees++;
}

bool palloc_page_is_free(const struct palloc *pa, uint64_t addr)
{
	uint64_t p = addr / PAGE_SIZE;
	return p < pa->nr_pages && find_free(pa, p) == p;
}

uint64_t palloc_free_bytes(const struct palloc *pa) { return pa->free_pages * PAGE_SIZE; }

uint64_t palloc_largest_free_run(const struct palloc *pa, uint64_t align_bytes)
{
	if (align_bytes & (align_bytes - 1))
		return 0;
	uint64_t align = align_bytes > PAGE_SIZE ? align_bytes / PAGE_SIZE : 1;
	uint64_t best = 0, p = pa->hint;
	for (;;) {
		p = find_free(pa, p);
		if (p >= pa->nr_pages)
			break;
		uint64_t q = find_used(pa, p, pa->nr_pages); /* [p, q) is free */
		uint64_t a = ALIGN_UP(p, align);
		if (a < q && q - a > best)
			best = q - a;
		p = q;
	}
	return best * PAGE_SIZE;
}
