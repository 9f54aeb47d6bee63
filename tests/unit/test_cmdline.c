/* Keel's command line: good lines, and every error naming key and guest. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/config.h>

static struct keel_config cfg;

static void parse(const char *line)
{
	config_defaults(&cfg);
	config_parse_cmdline(&cfg, line);
}

static void test_good_line(void **state)
{
	parse("loglevel=debug trace=64 guest=name:web,disk:web.img,mem:64M,vcpus:2 guest=disk:b.img,mem:1G "
	      "guest=name:k,kernel:vmlinuz,ramdisk:initrd,on_reset:stop,cmdline:console=ttyS0,115200 quiet");
	assert_int_equal(cfg.nr_errors, 1);
	assert_non_null(strstr(cfg.errors[0], "'quiet' is not key=value"));
	assert_int_equal(cfg.loglevel, 3);
	assert_int_equal(cfg.trace_entries, 64);
	assert_int_equal(cfg.nr_guests, 3);
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].name, "web");
	assert_string_equal(cfg.guests[0].disk, "web.img");
	assert_int_equal(cfg.guests[0].mem_bytes, 64ULL << 20);
	assert_int_equal(cfg.guests[0].vcpus, 2);
	assert_string_equal(cfg.guests[1].name, "g1");
	assert_int_equal(cfg.guests[1].mem_bytes, 1ULL << 30);
	assert_int_equal(cfg.guests[1].vcpus, 1);
	assert_true(cfg.guests[1].on_reset_restart);
	/* "quiet" is a separate word: a Keel option error, not part of cmdline. */
	assert_string_equal(cfg.guests[2].cmdline, "console=ttyS0,115200");
	assert_false(cfg.guests[2].on_reset_restart);
	assert_string_equal(cfg.seabios, "seabios");
	parse("");
	assert_int_equal(cfg.nr_guests, 0);
	assert_int_equal(cfg.loglevel, 2);
	parse("loglevel=0 seabios=sb hvmloader=hl");
	assert_int_equal(cfg.loglevel, 0);
	assert_string_equal(cfg.seabios, "sb");
	assert_string_equal(cfg.hvmloader, "hl");
}

static void expect_guest_error(const char *line, unsigned g, const char *needle)
{
	parse(line);
	assert_true(cfg.nr_guests > g);
	assert_false(cfg.guests[g].valid);
	if (!strstr(cfg.guests[g].error, needle))
		fail_msg("guest %u error \"%s\" lacks \"%s\"", g, cfg.guests[g].error, needle);
}

static void test_guest_errors(void **state)
{
	expect_guest_error("guest=disk:a,colour:red", 0, "unknown key 'colour'");
	expect_guest_error("guest=disk:a,mem:lots", 0, "mem:lots is not a size");
	expect_guest_error("guest=disk:a,mem:4M", 0, "out of range");
	expect_guest_error("guest=disk:a,mem:5G", 0, "out of range");
	expect_guest_error("guest=disk:a,mem:33M", 0, "multiple of 2 MiB");
	expect_guest_error("guest=disk:a,vcpus:0", 0, "vcpus:0 must be 1 to 8");
	expect_guest_error("guest=disk:a,vcpus:9", 0, "vcpus:9");
	expect_guest_error("guest=disk:a,vcpus:2x", 0, "vcpus:2x");
	expect_guest_error("guest=name:bad/name,disk:a", 0, "name:bad/name");
	expect_guest_error("guest=name:waytoolongname1234,disk:a", 0, "name:");
	expect_guest_error("guest=mem:32M", 0, "no disk:MODULE");
	expect_guest_error("guest=disk:a,kernel:b", 0, "not both");
	expect_guest_error("guest=disk:a,on_reset:maybe", 0, "on_reset:maybe");
	expect_guest_error("guest=disk", 0, "not key:value");
	expect_guest_error("guest=name:a,disk:x guest=name:a,disk:y", 1, "already used");
	/* A bad guest does not spoil the good ones. */
	parse("guest=disk:a,bogus:1 guest=name:ok,disk:b");
	assert_false(cfg.guests[0].valid);
	assert_true(cfg.guests[1].valid);
	assert_string_equal(cfg.guests[1].name, "ok");
}

static void test_global_errors_and_limits(void **state)
{
	parse("frobnicate=1 loglevel=9 trace=99999 guest=disk:a novalue");
	assert_int_equal(cfg.nr_errors, 4);
	assert_non_null(strstr(cfg.errors[0], "unknown option 'frobnicate'"));
	assert_non_null(strstr(cfg.errors[1], "loglevel=9"));
	assert_non_null(strstr(cfg.errors[2], "trace=99999"));
	assert_non_null(strstr(cfg.errors[3], "'novalue' is not key=value"));
	assert_true(cfg.guests[0].valid);

	char line[2048] = "";
	for (int i = 0; i < 17; i++) {
		char g[64];
		snprintf(g, sizeof(g), "guest=name:n%d,disk:d ", i);
		strcat(line, g);
	}
	parse(line);
	assert_int_equal(cfg.nr_guests, MAX_GUESTS);
	assert_int_equal(cfg.nr_errors, 1);
	assert_non_null(strstr(cfg.errors[0], "more than 16"));
	/* Overlong values are errors, not overflows. */
	parse("guest=disk:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_false(cfg.guests[0].valid);
	parse("guest=disk:a,mem:99999999999999999999999M");
	assert_false(cfg.guests[0].valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_line),
		cmocka_unit_test(test_guest_errors),
		cmocka_unit_test(test_global_errors_and_limits),
	};
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
