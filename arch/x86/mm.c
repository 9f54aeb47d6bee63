#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/mm.h>
#include <keel/palloc.h>
#include <keel/spinlock.h>
#include <keel/string.h>

/* Keel identity-maps the first 4 GiB (arch/x86/boot.S), so the allocator
 * hands out only memory below it. 1M pages = 128 KiB of bitmap. */
#define MM_LIMIT GiB(4)

static uint8_t palloc_bitmap[MM_LIMIT / PAGE_SIZE / 8];
static struct palloc kpalloc;
static spinlock_t mm_lock = SPINLOCK_INIT;

extern char __image_start[], __image_end[];

uint64_t mm_init(const struct bootinfo *bi)
{
	palloc_init(&kpalloc, palloc_bitmap, MM_LIMIT);
	for (unsigned i = 0; i < bi->nr_mmap; i++)
		if (bi->mmap[i].type == 1)
			palloc_add_free(&kpalloc, bi->mmap[i].base, bi->mmap[i].len);
	/* Real-mode IVT, BDA, EBDA, option ROMs, and the AP start-up page live
	 * below 1 MiB: never hand them out. */
	palloc_reserve(&kpalloc, 0, MiB(1));
	palloc_reserve(&kpalloc, (uint64_t)(uintptr_t)__image_start,
		       (uint64_t)(uintptr_t)__image_end - (uint64_t)(uintptr_t)__image_start);
	palloc_reserve(&kpalloc, bi->info_start, bi->info_end - bi->info_start);
	for (unsigned i = 0; i < bi->nr_modules; i++)
		palloc_reserve(&kpalloc, bi->modules[i].start, bi->modules[i].end - bi->modules[i].start);
	return palloc_free_bytes(&kpalloc);
}

void *page_alloc_aligned(uint64_t npages, uint64_t align)
{
	spin_lock(&mm_lock);
	uint64_t pa = palloc_alloc(&kpalloc, npages, align);
	spin_unlock(&mm_lock);
	if (!pa)
		return NULL;
	memset(phys_to_virt(pa), 0, npages * PAGE_SIZE);
	return phys_to_virt(pa);
}

void *page_alloc(uint64_t npages) { return page_alloc_aligned(npages, PAGE_SIZE); }

void page_free(void *p, uint64_t npages)
{
	if (!p)
		return;
	spin_lock(&mm_lock);
	palloc_free(&kpalloc, virt_to_phys(p), npages);
	spin_unlock(&mm_lock);
}

uint64_t mm_free_bytes(void)
{
	spin_lock(&mm_lock);
	uint64_t n = palloc_free_bytes(&kpalloc);
	spin_unlock(&mm_lock);
	return n;
}

uint64_t mm_largest_free_run(uint64_t align)
{
	spin_lock(&mm_lock);
	uint64_t n = palloc_largest_free_run(&kpalloc, align);
	spin_unlock(&mm_lock);
	return n;
}
