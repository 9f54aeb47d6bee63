/* Keel's command line: good lines, every error path (each message checked
 * for the key and value, each guest error for the guest it belongs to),
 * limits, duplicates, and the 17th guest. */
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

static void test_defaults(void **state)
{
	parse("");
	assert_int_equal(cfg.nr_guests, 0);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.loglevel, 2);
	assert_int_equal(cfg.trace_entries, 0);
	assert_true(cfg.serial);
	assert_string_equal(cfg.seabios, "seabios");
	assert_string_equal(cfg.hvmloader, "hvmloader");
	parse(" \t \n ");
	assert_int_equal(cfg.nr_errors, 0);

	parse("guest=disk:mbr.img");
	assert_int_equal(cfg.nr_guests, 1);
	struct guest_config *g = &cfg.guests[0];
	assert_true(g->valid);
	assert_string_equal(g->name, "g0");
	assert_string_equal(g->disk, "mbr.img");
	assert_string_equal(g->kernel, "");
	assert_string_equal(g->cmdline, "");
	assert_int_equal(g->mem_bytes, 32ULL << 20);
	assert_int_equal(g->vcpus, 1);
	assert_true(g->on_reset_restart);
	assert_false(g->selftest_bad_vmcs);
	assert_false(g->unclaimed_stop); /* unclaimed accesses complete by default */
	assert_false(g->testdev);
	assert_string_equal(g->error, "");
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
	assert_true(cfg.guests[1].valid);
	assert_string_equal(cfg.guests[1].name, "g1"); /* default: g<index> */
	assert_int_equal(cfg.guests[1].mem_bytes, 1ULL << 30);
	assert_int_equal(cfg.guests[1].vcpus, 1);
	assert_true(cfg.guests[1].on_reset_restart);
	/* A kernel guest is valid (it is refused later, when it is built).
	 * cmdline: keeps its commas; "quiet" is a separate word. */
	assert_true(cfg.guests[2].valid);
	assert_string_equal(cfg.guests[2].kernel, "vmlinuz");
	assert_string_equal(cfg.guests[2].ramdisk, "initrd");
	assert_string_equal(cfg.guests[2].cmdline, "console=ttyS0,115200");
	assert_false(cfg.guests[2].on_reset_restart);
	assert_string_equal(cfg.seabios, "seabios");

	parse("guest=kernel:k,unclaimed:stop,testdev:on guest=disk:d,unclaimed:complete,testdev:off");
	assert_int_equal(cfg.nr_errors, 0);
	assert_true(cfg.guests[0].valid && cfg.guests[0].unclaimed_stop && cfg.guests[0].testdev);
	assert_true(cfg.guests[1].valid && !cfg.guests[1].unclaimed_stop && !cfg.guests[1].testdev);
	parse("guest=kernel:k guest=kernel:k,x2apic:off guest=kernel:k,x2apic:on");
	assert_true(!cfg.guests[0].x2apic_off && cfg.guests[1].x2apic_off && !cfg.guests[2].x2apic_off);
	assert_false(cfg.guests[0].acpi_pm);
	parse("guest=kernel:k,acpi:pm guest=disk:d,acpi:basic");
	assert_true(cfg.guests[0].valid && cfg.guests[0].acpi_pm);
	assert_true(cfg.guests[1].valid && !cfg.guests[1].acpi_pm);

	parse("loglevel=0 seabios=sb hvmloader=hl serial=off");
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.loglevel, 0);
	assert_string_equal(cfg.seabios, "sb");
	assert_string_equal(cfg.hvmloader, "hl");
	assert_false(cfg.serial);
	parse("serial=on loglevel=err loglevel=warn");
	assert_true(cfg.serial);
	assert_int_equal(cfg.loglevel, 1); /* the last one counts */
	parse("loglevel=info\tloglevel=3");
	assert_int_equal(cfg.loglevel, 3);
	/* verw=: auto by default (0), on (1), off (2), nothing else. */
	assert_int_equal(cfg.verw, 0);
	parse("verw=on");
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.verw, 1);
	parse("verw=off");
	assert_int_equal(cfg.verw, 2);
	parse("verw=yes");
	assert_int_equal(cfg.nr_errors, 1);
	assert_non_null(strstr(cfg.errors[0], "verw=yes must be auto, on or off"));

	/* Separators: tabs and newlines; empty items and a trailing comma. */
	parse("\tguest=name:a,,disk:d,\nguest=disk:e,name:b,cmdline:");
	assert_int_equal(cfg.nr_errors, 0);
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].name, "a");
	assert_true(cfg.guests[1].valid);
	assert_string_equal(cfg.guests[1].name, "b");
	assert_string_equal(cfg.guests[1].cmdline, "");
	/* cmdline: takes everything after it, even key:value lookalikes. */
	parse("guest=kernel:d,cmdline:root=/dev/sda,mem:64M,vcpus:9");
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].cmdline, "root=/dev/sda,mem:64M,vcpus:9");
	assert_int_equal(cfg.guests[0].mem_bytes, 32ULL << 20);
	parse("guest=disk:d,selftest:bad-vmcs");
	assert_true(cfg.guests[0].valid);
	assert_true(cfg.guests[0].selftest_bad_vmcs);
	/* Module names may hold ':' and other characters, only not ','. */
	parse("guest=disk:hd:0/img.raw seabios=bios-256k.bin");
	assert_string_equal(cfg.guests[0].disk, "hd:0/img.raw");
	assert_string_equal(cfg.seabios, "bios-256k.bin");
}

static void test_sizes(void **state)
{
	static const struct {
		const char *mem;
		uint64_t bytes;
	} ok[] = { { "8", 8ULL << 20 },	      { "8M", 8ULL << 20 },	{ "8m", 8ULL << 20 },
		   { "8192K", 8ULL << 20 },   { "8192k", 8ULL << 20 },	{ "3G", 3ULL << 30 },
		   { "3g", 3ULL << 30 },      { "3072M", 3ULL << 30 },	{ "1G", 1ULL << 30 },
		   { "0010M", 10ULL << 20 },  { "3145728K", 3ULL << 30 }, { "5G", 5ULL << 30 },
		   { "3586M", 3586ULL << 20 }, { "1024G", 1024ULL << 30 } };
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "guest=disk:d,mem:%s", ok[i].mem);
		parse(line);
		if (!cfg.guests[0].valid)
			fail_msg("mem:%s: %s", ok[i].mem, cfg.guests[0].error);
		assert_int_equal(cfg.guests[0].mem_bytes, ok[i].bytes);
	}
	parse("guest=disk:d,vcpus:8 trace=4096");
	assert_true(cfg.guests[0].valid);
	assert_int_equal(cfg.guests[0].vcpus, 8);
	assert_int_equal(cfg.trace_entries, 4096);
	parse("trace=0");
	assert_int_equal(cfg.nr_errors, 0);
}

/* Guest g of the line is invalid, is called `name`, and its error has
 * `needle` in it. */
static void expect_guest_error(const char *line, unsigned g, const char *name, const char *needle)
{
	parse(line);
	if (cfg.nr_guests <= g)
		fail_msg("\"%s\": only %u guests", line, cfg.nr_guests);
	if (cfg.guests[g].valid)
		fail_msg("\"%s\": guest %u is valid", line, g);
	if (strcmp(cfg.guests[g].name, name))
		fail_msg("\"%s\": guest %u is named \"%s\", not \"%s\"", line, g, cfg.guests[g].name, name);
	if (!strstr(cfg.guests[g].error, needle))
		fail_msg("\"%s\": guest %u error \"%s\" lacks \"%s\"", line, g, cfg.guests[g].error, needle);
	assert_int_equal(cfg.nr_errors, 0); /* guest errors stay with the guest */
}

static void test_guest_errors(void **state)
{
	expect_guest_error("guest=name:a,disk:x,colour:red", 0, "a", "unknown key 'colour'");
	expect_guest_error("guest=disk:x,:v", 0, "g0", "unknown key ''");
	expect_guest_error("guest=disk:x,mem:lots", 0, "g0", "mem:lots is not a size");
	expect_guest_error("guest=disk:x,mem:", 0, "g0", "mem: is not a size");
	expect_guest_error("guest=disk:x,mem:M", 0, "g0", "mem:M is not a size");
	expect_guest_error("guest=disk:x,mem:32MB", 0, "g0", "mem:32MB is not a size");
	expect_guest_error("guest=disk:x,mem:-8M", 0, "g0", "mem:-8M is not a size");
	expect_guest_error("guest=disk:x,mem:32T", 0, "g0", "mem:32T is not a size");
	expect_guest_error("guest=disk:x,mem:4M", 0, "g0", "mem:4M is out of range (8M to 1024G)");
	expect_guest_error("guest=disk:x,mem:8190K", 0, "g0", "mem:8190K is out of range");
	expect_guest_error("guest=disk:x,mem:0", 0, "g0", "mem:0 is out of range");
	expect_guest_error("guest=disk:x,mem:1025G", 0, "g0", "mem:1025G is out of range");
	expect_guest_error("guest=disk:x,lowmem:3586M", 0, "g0", "lowmem:3586M is out of range (8M to 3584M)");
	expect_guest_error("guest=disk:x,lowmem:4M", 0, "g0", "lowmem:4M is out of range");
	expect_guest_error("guest=disk:x,lowmem:33M", 0, "g0", "lowmem:33M is not a multiple of 2 MiB");
	parse("guest=disk:x,mem:64M,lowmem:32M guest=disk:y");
	assert_int_equal(cfg.guests[0].lowmem_bytes, 32ULL << 20);
	assert_int_equal(cfg.guests[1].lowmem_bytes, 3584ULL << 20);
	expect_guest_error("guest=disk:x,mem:1048578M", 0, "g0", "mem:1048578M is out of range");
	expect_guest_error("guest=disk:x,mem:99999999999999999999999M", 0, "g0", "is not a size");
	expect_guest_error("guest=disk:x,mem:18014398509481984G", 0, "g0", "is not a size"); /* 2^54 G overflows */
	expect_guest_error("guest=disk:x,mem:33M", 0, "g0", "mem:33M is not a multiple of 2 MiB");
	expect_guest_error("guest=disk:x,vcpus:0", 0, "g0", "vcpus:0 must be 1 to 8");
	expect_guest_error("guest=disk:x,vcpus:9", 0, "g0", "vcpus:9 must be 1 to 8");
	expect_guest_error("guest=disk:x,vcpus:2x", 0, "g0", "vcpus:2x");
	expect_guest_error("guest=disk:x,vcpus:", 0, "g0", "vcpus: must be");
	expect_guest_error("guest=disk:x,vcpus:18446744073709551617", 0, "g0", "vcpus:18446744073709551617");
	expect_guest_error("guest=name:bad/name,disk:x", 0, "g0", "name:bad/name is not 1-15 characters");
	expect_guest_error("guest=name:,disk:x", 0, "g0", "name: is not");
	expect_guest_error("guest=name:sixteen-chars-xx,disk:x", 0, "g0", "name:sixteen-chars-xx");
	expect_guest_error("guest=mem:32M", 0, "g0", "no disk:MODULE (or kernel:MODULE) given");
	expect_guest_error("guest=", 0, "g0", "no disk:MODULE");
	expect_guest_error("guest=name:both,disk:x,kernel:y", 0, "both", "give disk: or kernel:, not both");
	expect_guest_error("guest=disk:x,ramdisk:r", 0, "g0", "ramdisk: needs kernel:");
	expect_guest_error("guest=disk:x,on_reset:maybe", 0, "g0", "on_reset:maybe must be restart or stop");
	expect_guest_error("guest=disk:x,selftest:everything", 0, "g0", "selftest:everything is unknown");
	expect_guest_error("guest=disk:x,unclaimed:ignore", 0, "g0", "unclaimed:ignore must be complete or stop");
	expect_guest_error("guest=disk:x,testdev:yes", 0, "g0", "testdev:yes must be on or off");
	expect_guest_error("guest=disk:x,x2apic:no", 0, "g0", "x2apic:no must be on or off");
	expect_guest_error("guest=disk:x,acpi:full", 0, "g0", "acpi:full must be pm or basic");
	expect_guest_error("guest=disk", 0, "g0", "'disk' is not key:value");
	expect_guest_error("guest=disk:x,name", 0, "g0", "'name' is not key:value");
	expect_guest_error("guest=disk:", 0, "g0", "disk: is not a module name of 1-31 characters");
	expect_guest_error("guest=disk:x,kernel:", 0, "g0", "kernel: is not a module name");
	expect_guest_error("guest=kernel:k,ramdisk:", 0, "g0", "ramdisk: is not a module name");
	expect_guest_error("guest=disk:x,disk:y", 0, "g0", "disk: is given twice");
	expect_guest_error("guest=name:a,disk:x,name:b", 0, "a", "name: is given twice");
	expect_guest_error("guest=disk:x,mem:64M,mem:64M", 0, "g0", "mem: is given twice");
	/* The first error is the one kept. */
	expect_guest_error("guest=disk:x,vcpus:0,mem:1", 0, "g0", "vcpus:0");
	/* The name is known even when it comes after the error. */
	expect_guest_error("guest=vcpus:0,name:late,disk:x", 0, "late", "vcpus:0");
	/* Duplicate names, given or defaulted. */
	expect_guest_error("guest=name:a,disk:x guest=name:a,disk:y", 1, "a", "the name 'a' is already used by guest 0");
	expect_guest_error("guest=name:g1,disk:x guest=disk:y", 1, "g1", "already used by guest 0");
	/* A bad guest does not spoil the good ones, before or after it. */
	parse("guest=name:one,disk:a guest=disk:a,bogus:1 guest=name:ok,disk:b");
	assert_true(cfg.guests[0].valid);
	assert_false(cfg.guests[1].valid);
	assert_string_equal(cfg.guests[1].name, "g1");
	assert_true(cfg.guests[2].valid);
	assert_string_equal(cfg.guests[2].name, "ok");
	assert_int_equal(cfg.nr_errors, 0);
}

static void test_lengths(void **state)
{
	char line[2048];
	/* Names: 15 fine, 16 not. Modules: 31 fine, 32 not. */
	parse("guest=name:fifteen-chars-x,disk:d");
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].name, "fifteen-chars-x");
	parse("guest=name:A-Z_a-z_0-9,disk:d");
	assert_true(cfg.guests[0].valid);
	parse("guest=disk:0123456789012345678901234567890");
	assert_true(cfg.guests[0].valid);
	expect_guest_error("guest=disk:01234567890123456789012345678901", 0, "g0",
			   "disk:01234567890123456789012345678901 is not a module name of 1-31 characters");
	parse("seabios=0123456789012345678901234567890 hvmloader=01234567890123456789012345678901");
	assert_int_equal(cfg.nr_errors, 1);
	assert_string_equal(cfg.seabios, "0123456789012345678901234567890");
	assert_string_equal(cfg.hvmloader, "hvmloader");
	assert_non_null(strstr(cfg.errors[0], "hvmloader=01234567890123456789012345678901 is not a module name"));
	/* cmdline: 511 characters fine, 512 not. */
	char text[600];
	memset(text, 'c', 511);
	text[511] = 0;
	snprintf(line, sizeof(line), "guest=kernel:d,cmdline:%s", text);
	parse(line);
	assert_true(cfg.guests[0].valid);
	assert_int_equal(strlen(cfg.guests[0].cmdline), 511);
	snprintf(line, sizeof(line), "guest=kernel:d,cmdline:%sc", text);
	expect_guest_error(line, 0, "g0", "cmdline: is 512 characters long, more than 511");
	/* Long bad values are quoted in part, never overflowing the message. */
	memset(text, 'v', 299);
	text[299] = 0;
	snprintf(line, sizeof(line), "guest=disk:d,mem:%s trace=%s %s=1", text, text, text);
	parse(line);
	assert_false(cfg.guests[0].valid);
	assert_non_null(strstr(cfg.guests[0].error, "mem:vvvv"));
	assert_int_equal(cfg.nr_errors, 2);
	assert_true(strlen(cfg.errors[0]) < sizeof(cfg.errors[0]));
	assert_non_null(strstr(cfg.errors[1], "unknown option 'vvvv"));
}

static void test_global_errors_and_limits(void **state)
{
	parse("frobnicate=1 loglevel=9 trace=99999 guest=disk:a novalue loglevel= trace=-1 serial=maybe =x");
	assert_int_equal(cfg.nr_errors, 8);
	assert_non_null(strstr(cfg.errors[0], "unknown option 'frobnicate'"));
	assert_non_null(strstr(cfg.errors[1], "loglevel=9 must be 0-3 or err/warn/info/debug"));
	assert_non_null(strstr(cfg.errors[2], "trace=99999 must be 0 to 4096"));
	assert_non_null(strstr(cfg.errors[3], "'novalue' is not key=value"));
	assert_non_null(strstr(cfg.errors[4], "loglevel= must be"));
	assert_non_null(strstr(cfg.errors[5], "trace=-1"));
	assert_non_null(strstr(cfg.errors[6], "serial=maybe must be on or off"));
	assert_non_null(strstr(cfg.errors[7], "unknown option ''"));
	assert_int_equal(cfg.errors_dropped, 0);
	assert_true(cfg.guests[0].valid);
	assert_int_equal(cfg.loglevel, 2); /* bad values change nothing */
	assert_int_equal(cfg.trace_entries, 0);
	parse("cpus=2");
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.max_cpus, 2);
	parse("cpus=0 cpus=65 cpus=x");
	assert_int_equal(cfg.nr_errors, 3);
	assert_non_null(strstr(cfg.errors[0], "cpus=0 must be 1 to 64"));
	assert_non_null(strstr(cfg.errors[1], "cpus=65"));
	assert_int_equal(cfg.max_cpus, CONFIG_MAX_CPUS); /* default: all */
	parse("loglevel=DEBUG trace=4097 seabios= loglevel=33");
	assert_int_equal(cfg.nr_errors, 4);
	assert_non_null(strstr(cfg.errors[2], "seabios= is not a module name"));
	assert_string_equal(cfg.seabios, "seabios");

	/* More than 8 errors: 8 kept, the rest counted. */
	parse("a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 guest=disk:x");
	assert_int_equal(cfg.nr_errors, 8);
	assert_int_equal(cfg.errors_dropped, 2);
	assert_non_null(strstr(cfg.errors[7], "'h'"));
	assert_true(cfg.guests[0].valid); /* parsing went on */
}

static void test_seventeen_guests(void **state)
{
	char line[2048] = "";
	for (int i = 0; i < 17; i++) {
		char g[64];
		snprintf(g, sizeof(g), "guest=name:n%d,disk:d%d ", i, i);
		strcat(line, g);
	}
	strcat(line, "loglevel=1");
	parse(line);
	assert_int_equal(cfg.nr_guests, MAX_GUESTS);
	for (int i = 0; i < MAX_GUESTS; i++)
		assert_true(cfg.guests[i].valid);
	assert_string_equal(cfg.guests[15].name, "n15");
	assert_int_equal(cfg.nr_errors, 1);
	assert_non_null(strstr(cfg.errors[0], "more than 16 guests; guest 'n16' is ignored"));
	assert_int_equal(cfg.loglevel, 1); /* words after it still count */

	/* Unnamed, the 17th is named by its number. */
	line[0] = 0;
	for (int i = 0; i < 18; i++)
		strcat(line, "guest=disk:d ");
	parse(line);
	assert_int_equal(cfg.nr_guests, MAX_GUESTS);
	assert_int_equal(cfg.nr_errors, 2);
	assert_non_null(strstr(cfg.errors[0], "guest 'g16' is ignored"));
	assert_non_null(strstr(cfg.errors[1], "guest 'g17' is ignored"));
	assert_int_equal(cfg.guests_ignored, 2);
	assert_string_equal(cfg.guests[15].name, "g15");

	/* Parsing twice adds to what is there, names stay unique. */
	config_defaults(&cfg);
	config_parse_cmdline(&cfg, "guest=disk:a");
	config_parse_cmdline(&cfg, "guest=disk:b guest=name:g0,disk:c");
	assert_int_equal(cfg.nr_guests, 3);
	assert_string_equal(cfg.guests[1].name, "g1");
	assert_false(cfg.guests[2].valid);
	assert_non_null(strstr(cfg.guests[2].error, "already used by guest 0"));
}

/* GRUB quotes an argument with blanks and escapes \\ " ' inside it
 * (grub_create_loader_cmdline); Keel takes the word whole, unquoted. */
static void test_grub_quoting(void **state)
{
	parse("loglevel=debug \"guest=name:lx,kernel:vmlinuz,cmdline:console=ttyS0 nolapic  acpi=off\" "
	      "guest=name:b,kernel:k,cmdline:say=\\\"hi\\\"\\'x\\\\y");
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.loglevel, 3);
	assert_int_equal(cfg.nr_guests, 2);
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].kernel, "vmlinuz");
	assert_string_equal(cfg.guests[0].cmdline, "console=ttyS0 nolapic  acpi=off");
	assert_true(cfg.guests[1].valid);
	assert_string_equal(cfg.guests[1].cmdline, "say=\"hi\"'x\\y");
	/* A command line belongs to a kernel. */
	parse("guest=disk:d,cmdline:quiet");
	assert_false(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].error, "cmdline: needs kernel:");
	/* A quoted blank in a module name could never match a module (fuzz_cmdline). */
	parse("guest=name:e9,di\"sk:k:d guest=name:n\"");
	assert_int_equal(cfg.nr_guests, 1);
	assert_false(cfg.guests[0].valid);
	assert_non_null(strstr(cfg.guests[0].error, "disk:k:d guest=name:n has a blank"));
	/* A quote left open runs to the end of the line. */
	parse("\"guest=kernel:k,cmdline:a b");
	assert_int_equal(cfg.nr_guests, 1);
	assert_string_equal(cfg.guests[0].cmdline, "a b");
	/* An over-long quoted word is an error, not a crash. */
	static char line[3000];
	memset(line, 'x', sizeof(line) - 1);
	line[0] = '"';
	line[sizeof(line) - 1] = 0;
	parse(line);
	assert_int_equal(cfg.nr_errors, 1);
	assert_non_null(strstr(cfg.errors[0], "longer than 1024"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_line),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_guest_errors),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_global_errors_and_limits),
		cmocka_unit_test(test_seventeen_guests),
		cmocka_unit_test(test_grub_quoting),
	};
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
