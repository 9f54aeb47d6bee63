/* Telling Keel's kicks from the platform's NMIs (include/keel/nmi.h):
 * outstanding kicks are taken without a port read, one NMI covering them
 * all; with none outstanding port 0x61's SERR/IOCHK latch decides. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include <keel/nmi.h>

static uint8_t port61;
static unsigned port_reads;
static uint8_t read_port61(void)
{
	port_reads++;
	return port61;
}

static void test_kicks_need_no_port_read(void **state)
{
	uint32_t taken = 0;
	uint8_t status = 0;
	port_reads = 0;
	port61 = NMI_SC_SERR; /* even with an error latched, a kick is a kick */
	assert_int_equal(nmi_classify(&taken, 1, read_port61, &status), NMI_KICK);
	assert_int_equal(taken, 1);
	assert_int_equal(port_reads, 0);
}

static void test_one_nmi_covers_all_kicks_sent(void **state)
{
	uint32_t taken = 4;
	uint8_t status = 0;
	port_reads = 0;
	port61 = 0x20; /* PIT channel 2 output: not an error */
	/* Three kicks sent, their NMIs merged into one: taken catches up. */
	assert_int_equal(nmi_classify(&taken, 7, read_port61, &status), NMI_KICK);
	assert_int_equal(taken, 7);
	/* A second NMI for the same kicks: neither a kick nor an error. */
	assert_int_equal(nmi_classify(&taken, 7, read_port61, &status), NMI_UNEXPLAINED);
	assert_int_equal(port_reads, 1);
	assert_int_equal(status, 0x20);
}

static void test_platform_errors(void **state)
{
	uint32_t taken = 2;
	uint8_t status = 0;
	port61 = NMI_SC_SERR | 0x01;
	assert_int_equal(nmi_classify(&taken, 2, read_port61, &status), NMI_PLATFORM_ERROR);
	assert_int_equal(status, NMI_SC_SERR | 0x01);
	port61 = NMI_SC_IOCHK;
	assert_int_equal(nmi_classify(&taken, 2, read_port61, &status), NMI_PLATFORM_ERROR);
	assert_int_equal(taken, 2);
}

static void test_counter_wraps(void **state)
{
	uint32_t taken = UINT32_MAX;
	uint8_t status = 0;
	port_reads = 0;
	assert_int_equal(nmi_classify(&taken, 0, read_port61, &status), NMI_KICK);
	assert_int_equal(taken, 0);
	assert_int_equal(port_reads, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kicks_need_no_port_read),
		cmocka_unit_test(test_one_nmi_covers_all_kicks_sent),
		cmocka_unit_test(test_platform_errors),
		cmocka_unit_test(test_counter_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
