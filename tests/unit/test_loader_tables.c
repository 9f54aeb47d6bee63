/* hvmloader's table builders: the E820 map and the SeaBIOS info table,
 * checked the way SeaBIOS's validate_info checks it. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "e820.h"
#include "seabios_info.h"

static void test_e820_layouts(void **state)
{
	struct e820_entry e[8];
	unsigned n = e820_build(e, 8, 32ULL << 20, 0, 0xc0000);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].start, 0);
	assert_int_equal(e[0].size, 0xa0000);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].start, 0xc0000);
	assert_int_equal(e[1].start + e[1].size, 0x100000);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].start, 0x100000);
	assert_int_equal(e[2].start + e[2].size, 32ULL << 20);
	/* Sorted and non-overlapping, with RAM above 4 GiB last. */
	n = e820_build(e, 8, 3000ULL << 20, 2ULL << 30, 0xe0000);
	assert_int_equal(n, 4);
	for (unsigned i = 1; i < n; i++)
		assert_true(e[i].start >= e[i - 1].start + e[i - 1].size);
	assert_int_equal(e[3].start, 1ULL << 32);
	assert_int_equal(sizeof(struct e820_entry), 20);
	/* Nonsense in, nothing out. */
	assert_int_equal(e820_build(e, 8, 0x80000, 0, 0xc0000), 0);
	assert_int_equal(e820_build(e, 8, 32 << 20, 0, 0xc1000), 0);
	assert_int_equal(e820_build(e, 8, 32 << 20, 0, 0x100000), 0);
	assert_int_equal(e820_build(e, 2, 32 << 20, 0, 0xc0000), 0);
}

static void test_seabios_info(void **state)
{
	struct seabios_info si;
	uint32_t tables[SEABIOS_MAX_TABLES];
	assert_int_equal(sizeof(si), 32);
	seabios_info_init(&si, 0x10400, 0x10000, 3);
	assert_int_equal(seabios_info_add_table(&si, tables, 0xf0000), 0);
	for (int i = 1; i < SEABIOS_MAX_TABLES; i++)
		assert_int_equal(seabios_info_add_table(&si, tables, 0x1000 * i), 0);
	assert_int_equal(seabios_info_add_table(&si, tables, 0x9999), -1);
	seabios_info_finish(&si);
	assert_int_equal(seabios_info_check(&si, sizeof(si)), 0);
	assert_memory_equal(si.signature, "XenHVMSeaBIOS\0", 14);
	assert_int_equal(si.length, 32);
	/* SeaBIOS's own rule: the bytes [0, length) sum to zero. */
	uint8_t sum = 0;
	for (unsigned i = 0; i < si.length; i++)
		sum += ((uint8_t *)&si)[i];
	assert_int_equal(sum, 0);
	si.e820_nr++;
	assert_int_equal(seabios_info_check(&si, sizeof(si)), -3);
	si.e820_nr--;
	si.signature[0] = 'x';
	assert_int_equal(seabios_info_check(&si, sizeof(si)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_layouts),
		cmocka_unit_test(test_seabios_info),
	};
	return cmocka_run_group_tests_name("loader tables", tests, NULL, NULL);
}
