/* Bugs the fuzzers (tests/fuzz/) found, each reproduced with the smallest
 * sequence that showed it. docs/security.md lists them. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakes.h"
#include <keel/debugport.h>
#include <keel/iobus.h>

/*
 * fuzz_platform: `rep outsb` to the isa-debug-exit port 0xF4. The first
 * byte stops the guest, and guest_stop() frees its RAM at once; the string
 * loop went on reading the freed buffer and calling the stopped guest's
 * devices for every remaining element (heap-use-after-free under ASan).
 */
struct stopping_guest {
	struct fake_guest fg;
	struct io_bus bus;
	uint8_t *ram;
};

static void stop_and_free(void *ctx, int status, const char *why)
{
	struct stopping_guest *s = ctx;
	s->fg.exits++;
	iobus_close(&s->bus); /* what guest_stop() does, then it frees RAM */
	free(s->ram);
	s->ram = NULL;
}

static void test_outs_to_exit_port_stops_at_the_stop(void **state)
{
	static struct stopping_guest s;
	struct debugport d;
	fake_guest_init(&s.fg);
	s.fg.ev.request_exit = stop_and_free;
	s.fg.ev.ctx = &s;
	iobus_init(&s.bus);
	debugport_init(&d, &s.fg.out, &s.fg.ev);
	assert_int_equal(debugport_register(&d, &s.bus), 0);
	s.ram = malloc(6);
	memcpy(s.ram, "\x01\x02\x03\x04\x05\x06", 6);
	uint8_t *page = s.ram;

	uint32_t done = iobus_write_string(&s.bus, DEBUGPORT_EXIT, 1, page, 6);
	assert_int_equal(done, 1);       /* the element that stopped it */
	assert_int_equal(s.fg.exits, 1); /* and nothing after it */
	/* A stopped guest's bus takes nothing more. */
	iobus_write(&s.bus, DEBUGPORT_POST, 1, 0x55);
	assert_int_equal(debugport_last_post(&d), 0);
	assert_int_equal(iobus_read(&s.bus, DEBUGPORT_E9, 1), 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outs_to_exit_port_stops_at_the_stop),
	};
	return cmocka_run_group_tests_name("fuzz regressions", tests, NULL, NULL);
}
