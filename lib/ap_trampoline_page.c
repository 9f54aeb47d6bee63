/* Choosing the AP start-up page; see include/keel/ap_trampoline_page.h. */
#include <keel/ap_trampoline_page.h>
#include <keel/format.h>

#define PAGE 0x1000ULL
#define LOW_LIMIT 0x100000ULL /* a start-up vector reaches 0xFF000 at most */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

static bool in_ram(const struct bootinfo *bi, uint64_t pa)
{
	for (unsigned i = 0; i < bi->nr_mmap; i++) {
		const struct mem_region *r = &bi->mmap[i];
		if (r->type == MEM_RAM && r->base <= pa && r->len >= PAGE && pa - r->base <= r->len - PAGE)
			return true;
	}
	return false;
}

static bool in_use(const struct bootinfo *bi, uint64_t pa)
{
	if (overlaps(bi->info_start, bi->info_end - bi->info_start, pa, PAGE))
		return true;
	for (unsigned i = 0; i < bi->nr_modules; i++)
		if (overlaps(bi->modules[i].start, bi->modules[i].end - bi->modules[i].start, pa, PAGE))
			return true;
	return false;
}

int ap_trampoline_page_find(const struct bootinfo *bi, uint64_t *pa, char *why, size_t whylen)
{
	if (in_ram(bi, AP_TRAMPOLINE_PREFERRED) && !in_use(bi, AP_TRAMPOLINE_PREFERRED)) {
		*pa = AP_TRAMPOLINE_PREFERRED;
		return 0;
	}
	/* Page 0 is left alone: it holds the real-mode interrupt table that
	 * a legacy BIOS and some firmware still read. */
	unsigned ram_pages = 0;
	for (uint64_t p = PAGE; p < LOW_LIMIT; p += PAGE) {
		if (!in_ram(bi, p))
			continue;
		ram_pages++;
		if (!in_use(bi, p)) {
			*pa = p;
			return 0;
		}
	}
	if (!ram_pages)
		ksnprintf(why, whylen, "the memory map has no RAM page between 0x1000 and 1 MiB (the firmware keeps "
			  "it all)");
	else
		ksnprintf(why, whylen, "all %u RAM pages below 1 MiB hold the boot information or modules", ram_pages);
	return -1;
}
