#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/direct_map.h>
#include <keel/mm.h>
#include <keel/palloc.h>
#include <keel/physmem.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/io.h>

/* boot.S identity-maps the first 4 GiB; the allocator starts with a bitmap
 * for that much (1M pages = 128 KiB) and grows once the RAM above is
 * mapped (mm_init). */
#define BOOT_MAP_LIMIT GiB(4)

static uint8_t boot_bitmap[PALLOC_BITMAP_BYTES(BOOT_MAP_LIMIT)];
static struct palloc kpalloc;
static spinlock_t mm_lock = SPINLOCK_INIT;
static struct physmem_plan plan;
/* Everything below this is identity-mapped. */
static uint64_t direct_map_top = BOOT_MAP_LIMIT;
static uint64_t high_ram_bytes;

extern char __image_start[], __image_end[];
extern uint64_t boot_pml4[];

static unsigned cpu_phys_addr_bits(void)
{
	uint32_t a, b, c, d;
	cpuid(0x80000000, &a, &b, &c, &d);
	if (a < 0x80000008)
		return 36; /* SDM Vol. 3A 4.1.4: 36 bits when the leaf is absent */
	cpuid(0x80000008, &a, &b, &c, &d);
	return a & 0xff;
}

static bool cpu_has_gb_pages(void)
{
	uint32_t a, b, c, d;
	cpuid(0x80000001, &a, &b, &c, &d);
	return d & CPUID_80000001_EDX_PDPE1GB;
}

static void reserve_boot_data(const struct bootinfo *bi)
{
	/* Real-mode IVT, BDA, EBDA, option ROMs, and the AP start-up page live
	 * below 1 MiB: never hand them out. */
	palloc_reserve(&kpalloc, 0, MiB(1));
	palloc_reserve(&kpalloc, (uint64_t)(uintptr_t)__image_start,
		       (uint64_t)(uintptr_t)__image_end - (uint64_t)(uintptr_t)__image_start);
	palloc_reserve(&kpalloc, bi->info_start, bi->info_end - bi->info_start);
	for (unsigned i = 0; i < bi->nr_modules; i++)
		palloc_reserve(&kpalloc, bi->modules[i].start, bi->modules[i].end - bi->modules[i].start);
}

static void *direct_map_alloc_table(void *ctx)
{
	uint64_t pa = palloc_alloc_below(ctx, 1, PAGE_SIZE, BOOT_MAP_LIMIT);
	return pa ? phys_to_virt(pa) : NULL;
}

/* Maps RAM above 4 GiB and moves the allocator to a bitmap that covers it;
 * then hands that RAM to the allocator. Page tables and the bitmap come
 * from memory below 4 GiB, which is already mapped. On failure Keel keeps
 * to the memory below 4 GiB and says why. */
static void mm_add_high_memory(void)
{
	bool gb = cpu_has_gb_pages();
	uint64_t unit = gb ? GiB(1) : LARGE_PAGE_SIZE;
	uint64_t top = ALIGN_UP(plan.map_top, unit);
	struct direct_map dm = { .pml4 = boot_pml4, .alloc_table = direct_map_alloc_table, .ctx = &kpalloc,
				 .gb_pages = gb };
	if (direct_map_extend(&dm, BOOT_MAP_LIMIT, top) < 0) {
		pr_err("mm: cannot map memory %#lx-%#lx (%lu page-table pages made): out of memory below 4 GiB; "
		       "only RAM below 4 GiB is used\n", BOOT_MAP_LIMIT, top - 1, dm.nr_table_pages);
		return;
	}
	direct_map_top = top;
	pr_info("mm: identity map extended to %lu GiB with %s pages (%lu page-table pages)\n", top >> 30,
		gb ? "1 GiB" : "2 MiB", dm.nr_table_pages);
	if (plan.ram_top <= BOOT_MAP_LIMIT)
		return;

	uint64_t bitmap_pages = ALIGN_UP(PALLOC_BITMAP_BYTES(plan.ram_top), PAGE_SIZE) / PAGE_SIZE;
	uint64_t bitmap = palloc_alloc(&kpalloc, bitmap_pages, PAGE_SIZE);
	if (!bitmap) {
		pr_err("mm: no room for the %lu KiB allocator bitmap of RAM up to %#lx; only RAM below 4 GiB is "
		       "used\n", bitmap_pages * 4, plan.ram_top - 1);
		return;
	}
	palloc_grow(&kpalloc, phys_to_virt(bitmap), plan.ram_top);
	for (unsigned i = 0; i < plan.nr_ram; i++) {
		uint64_t base = MAX(plan.ram[i].base, BOOT_MAP_LIMIT);
		if (base < plan.ram[i].end) {
			palloc_add_free(&kpalloc, base, plan.ram[i].end - base);
			high_ram_bytes += plan.ram[i].end - base;
		}
	}
}

uint64_t mm_init(const struct bootinfo *bi)
{
	physmem_plan(bi->mmap, bi->nr_mmap, cpu_phys_addr_bits(), &plan);
	for (unsigned i = 0; i < plan.nr_warnings; i++)
		pr_warn("memory map: %s\n", plan.warnings[i]);
	if (plan.warnings_dropped)
		pr_warn("memory map: %u more problems not shown\n", plan.warnings_dropped);

	palloc_init(&kpalloc, boot_bitmap, BOOT_MAP_LIMIT);
	for (unsigned i = 0; i < plan.nr_ram; i++)
		palloc_add_free(&kpalloc, plan.ram[i].base, plan.ram[i].end - plan.ram[i].base);
	reserve_boot_data(bi);
	if (plan.map_top > BOOT_MAP_LIMIT)
		mm_add_high_memory();
	return palloc_free_bytes(&kpalloc);
}

uint64_t mm_ram_top(void) { return plan.ram_top; }

uint64_t mm_ram_above_4g(void) { return high_ram_bytes; }

/* Zeroed outside the lock: zeroing a 1 GiB block takes a while. */
static void *zeroed(uint64_t pa, uint64_t npages)
{
	if (!pa)
		return NULL;
	memset(phys_to_virt(pa), 0, npages * PAGE_SIZE);
	return phys_to_virt(pa);
}

void *page_alloc_aligned(uint64_t npages, uint64_t align)
{
	spin_lock(&mm_lock);
	uint64_t pa = palloc_alloc(&kpalloc, npages, align);
	spin_unlock(&mm_lock);
	return zeroed(pa, npages);
}

void *page_alloc(uint64_t npages) { return page_alloc_aligned(npages, PAGE_SIZE); }

void *page_alloc_below(uint64_t npages, uint64_t limit)
{
	spin_lock(&mm_lock);
	uint64_t pa = palloc_alloc_below(&kpalloc, npages, PAGE_SIZE, limit);
	spin_unlock(&mm_lock);
	return zeroed(pa, npages);
}

void *page_alloc_high(uint64_t npages, uint64_t align)
{
	spin_lock(&mm_lock);
	uint64_t pa = palloc_alloc_top(&kpalloc, npages, align);
	spin_unlock(&mm_lock);
	return zeroed(pa, npages);
}

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
 * Firmware tables beyond the identity map (reserved memory above the last
 * RAM on large machines) are read through a small read-only window:
 * PML4 entry 511 (virtual 0xffffff8000000000, far from the identity map)
 * points to a PDPT whose first entry points to a PD whose slots each hold
 * two 2 MiB pages, enough for a table up to 2 MiB wherever it starts.
 * Slots are reused round-robin, so a caller may hold FIRMWARE_SLOTS
 * mappings at once; only the boot CPU uses this, at start-up.
 */
#define FIRMWARE_WINDOW 0xffffff8000000000ULL
#define FIRMWARE_PML4_SLOT 511
#define FIRMWARE_SLOTS 4
static uint64_t firmware_pdpt[512] __aligned(4096);
static uint64_t firmware_pd[512] __aligned(4096);
static unsigned firmware_next_slot;

const void *mm_map_firmware(uint64_t pa, uint64_t len)
{
	if (len == 0 || len > LARGE_PAGE_SIZE || pa + len < pa || pa + len > (1ULL << 46))
		return NULL;
	if (pa + len <= direct_map_top)
		return phys_to_virt(pa);
	unsigned slot = firmware_next_slot++ % FIRMWARE_SLOTS;
	uint64_t base = pa & ~(LARGE_PAGE_SIZE - 1);
	boot_pml4[FIRMWARE_PML4_SLOT] = virt_to_phys(firmware_pdpt) | PTE_P;
	firmware_pdpt[0] = virt_to_phys(firmware_pd) | PTE_P;
	for (unsigned i = 0; i < 2; i++) {
		uint64_t va = FIRMWARE_WINDOW + (slot * 2 + i) * LARGE_PAGE_SIZE;
		firmware_pd[slot * 2 + i] = (base + i * LARGE_PAGE_SIZE) | PTE_P | PTE_PS | PTE_NX;
		__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
	}
	return (const void *)(uintptr_t)(FIRMWARE_WINDOW + slot * 2 * LARGE_PAGE_SIZE + (pa - base));
}
