#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/mm.h>
#include <keel/palloc.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <x86/cpu.h>

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

/*
 * Firmware tables may live above 4 GiB (ACPI tables on large machines), out
 * of the identity map. mm_map_firmware() maps them read-only into a small
 * window just above it: PDPT entry 4 (virtual 4-5 GiB) points to a PD whose
 * slots each hold two 2 MiB pages, enough for a table up to 2 MiB wherever
 * it starts. Slots are reused round-robin, so a caller may hold
 * FIRMWARE_SLOTS mappings at once; only the boot CPU uses this, at start-up.
 */
#define FIRMWARE_WINDOW GiB(4)
#define FIRMWARE_SLOTS 4
extern uint64_t boot_pdpt[];
static uint64_t firmware_pd[512] __aligned(4096);
static unsigned firmware_next_slot;

const void *mm_map_firmware(uint64_t pa, uint64_t len)
{
	if (len == 0 || len > LARGE_PAGE_SIZE || pa + len < pa || pa + len > (1ULL << 46))
		return NULL;
	if (pa + len <= MM_LIMIT)
		return phys_to_virt(pa);
	unsigned slot = firmware_next_slot++ % FIRMWARE_SLOTS;
	uint64_t base = pa & ~(LARGE_PAGE_SIZE - 1);
	boot_pdpt[4] = virt_to_phys(firmware_pd) | PTE_P;
	for (unsigned i = 0; i < 2; i++) {
		uint64_t va = FIRMWARE_WINDOW + (slot * 2 + i) * LARGE_PAGE_SIZE;
		firmware_pd[slot * 2 + i] = (base + i * LARGE_PAGE_SIZE) | PTE_P | PTE_PS | PTE_NX;
		__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
	}
	return (const void *)(uintptr_t)(FIRMWARE_WINDOW + slot * 2 * LARGE_PAGE_SIZE + (pa - base));
}
