/*
 * highmem=1: the guest RAM its memory map lists above 4 GiB is really
 * there. A 32-bit kernel reaches physical addresses above 4 GiB only
 * through PAE paging (SDM Vol. 3A 4.4): a PDPT of four entries, one page
 * directory whose 2 MiB pages identity-map the first GiB (where this
 * kernel, its stack and its boot information live), and its last entry
 * as a window onto any 2 MiB of physical memory. Both ends of the high
 * range are written and read back, and the low memory at the same offsets
 * must not change: RAM at 4 GiB is not an alias of RAM at 0.
 */
#include <stdint.h>

#include "mb1test.h"

#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define PDE_P 1u
#define PDE_RW 2u
#define PDE_PS 0x80u
#define LARGE 0x200000u
#define WINDOW 0x3fe00000u /* the last 2 MiB of the first GiB */

static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pd[512] __attribute__((aligned(4096)));

static volatile uint32_t *window_onto(uint64_t pa)
{
	pd[511] = (pa & ~(uint64_t)(LARGE - 1)) | PDE_P | PDE_RW | PDE_PS;
	__asm__ volatile("invlpg (%0)" ::"r"(WINDOW) : "memory");
	return (volatile uint32_t *)(uintptr_t)(WINDOW + (uint32_t)(pa & (LARGE - 1)));
}

static void paging(int on)
{
	uint32_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0; mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
	if (on) {
		__asm__ volatile("mov %0, %%cr3" ::"r"((uint32_t)(uintptr_t)pdpt) : "memory");
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | CR4_PAE) : "memory");
		__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | CR0_PG) : "memory");
	} else {
		__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 & ~CR0_PG) : "memory");
		__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 & ~CR4_PAE) : "memory");
	}
}

void highmem_test(uint64_t base, uint64_t len)
{
	for (unsigned i = 0; i < 511; i++)
		pd[i] = (uint64_t)i * LARGE | PDE_P | PDE_RW | PDE_PS;
	pdpt[0] = (uint32_t)(uintptr_t)pd | PDE_P;

	uint64_t first = base + 0x100, last = base + len - 8; /* (not 0: the low alias would be NULL) */
	const uint32_t a = 0x4b45454c, b = 0x48494748; /* "KEEL", "HIGH" */
	/* Low memory at the offsets the high addresses would alias to. */
	volatile uint32_t *low1 = (volatile uint32_t *)(uintptr_t)(uint32_t)(first & 0xffffffffu);
	volatile uint32_t *low2 = (volatile uint32_t *)(uintptr_t)(uint32_t)(last & 0xffffffffu);
	uint32_t low1_before = *low1, low2_before = *low2;

	paging(1);
	*window_onto(first) = a;
	*window_onto(last) = b;
	uint32_t got_a = *window_onto(first), got_b = *window_onto(last);
	paging(0);

	say("mb1test: RAM above 4 GiB: %u MiB at %#x%08x; read back %#x at its start, %#x at its end\n",
	    (unsigned)(len >> 20), (unsigned)(base >> 32), (unsigned)base, got_a, got_b);
	check(got_a == a && got_b == b, "RAM above 4 GiB does not keep what was written");
	check(*low1 == low1_before && *low2 == low2_before, "writing above 4 GiB changed RAM below it");
}
