/* The AP start-up page (lib/ap_trampoline_page.c): the usual 0x8000 on a
 * BIOS map, another page when UEFI's map or GRUB's modules take it, and a
 * clear reason when no page below 1 MiB is free. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/ap_trampoline_page.h>

static struct bootinfo bi;
static char why[128];

static void ram(uint64_t base, uint64_t len, uint32_t type)
{
	bi.mmap[bi.nr_mmap++] = (struct mem_region){ .base = base, .len = len, .type = type };
}

static void module(uint64_t start, uint64_t end)
{
	bi.modules[bi.nr_modules].start = start;
	bi.modules[bi.nr_modules++].end = end;
}

static int setup(void **state)
{
	memset(&bi, 0, sizeof(bi));
	bi.info_start = 0x10000;
	bi.info_end = 0x10400;
	return 0;
}

static uint64_t find_ok(void)
{
	uint64_t pa = 0;
	if (ap_trampoline_page_find(&bi, &pa, why, sizeof(why)) != 0)
		fail_msg("no page: %s", why);
	return pa;
}

static void expect_none(const char *needle)
{
	uint64_t pa = 0;
	assert_int_equal(ap_trampoline_page_find(&bi, &pa, why, sizeof(why)), -1);
	if (!strstr(why, needle))
		fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
}

static void test_bios_map(void **state)
{
	ram(0, 0x9fc00, MEM_RAM);
	ram(0x100000, 0x1f00000, MEM_RAM);
	assert_int_equal(find_ok(), AP_TRAMPOLINE_PREFERRED);
}

/* QEMU's OVMF: RAM below 640 KiB, but GRUB put a module over 0x8000. */
static void test_module_over_preferred(void **state)
{
	ram(0, 0xa0000, MEM_RAM);
	module(0x5000, 0x9800);
	module(0x1000, 0x2001);
	assert_int_equal(find_ok(), 0x3000);
}

/* A UEFI map where boot-services-free RAM below 1 MiB is one odd spot. */
static void test_uefi_fragments(void **state)
{
	ram(0, 0x1000, MEM_RAM);           /* page 0: never used */
	ram(0x1000, 0x86000, 2);            /* runtime services: reserved */
	ram(0x87000, 0x800, MEM_RAM);       /* half a page: not enough */
	ram(0x88000, 0x2000, MEM_ACPI_NVS);
	ram(0x8a000, 0x1000, MEM_RAM);
	ram(0x100000, 0x1000000, MEM_RAM);
	assert_int_equal(find_ok(), 0x8a000);
}

static void test_page_split_across_entries_is_not_used(void **state)
{
	ram(0x7800, 0x800, MEM_RAM);
	ram(0x8000, 0x800, MEM_RAM);
	expect_none("no RAM page");
}

static void test_none_free(void **state)
{
	ram(0, 0x1000, MEM_RAM);
	ram(0x100000, 0x1000000, MEM_RAM);
	expect_none("no RAM page between 0x1000 and 1 MiB");
	setup(NULL);
	ram(0x1000, 0x3000, MEM_RAM);
	module(0x1000, 0x3000);
	bi.info_start = 0x3000;
	bi.info_end = 0x3010;
	expect_none("all 3 RAM pages below 1 MiB hold the boot information or modules");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bios_map, setup),
		cmocka_unit_test_setup(test_module_over_preferred, setup),
		cmocka_unit_test_setup(test_uefi_fragments, setup),
		cmocka_unit_test_setup(test_page_split_across_entries_is_not_used, setup),
		cmocka_unit_test_setup(test_none_free, setup),
	};
	return cmocka_run_group_tests_name("ap_trampoline_page", tests, NULL, NULL);
}
