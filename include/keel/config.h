/*
 * Keel's command line (the words after keel.elf on GRUB's multiboot2 line).
 *
 *   loglevel=0..3|err|warn|info|debug   how much Keel prints (default info)
 *   trace=N                 keep the last N VM exits per vCPU (0-4096; 0 = off)
 *   seabios=MODULE          GRUB module holding SeaBIOS (default "seabios")
 *   hvmloader=MODULE        GRUB module holding hvmloader (default "hvmloader")
 *   guest=SPEC              one guest; repeat for more (at most 16)
 *
 * SPEC is a comma-separated list of key:value pairs:
 *   name:NAME     1-15 characters of [A-Za-z0-9_-], unique (default g<index>)
 *   disk:MODULE   the GRUB module holding the guest's disk image
 *   mem:SIZE      RAM, with suffix K, M or G (default unit M; default 32M;
 *                 8 MiB to 3 GiB)
 *   vcpus:N       1-8 (default 1)
 *   kernel:MODULE, ramdisk:MODULE   direct kernel boot (reserved)
 *   on_reset:restart|stop           what a guest reset does (default restart)
 *   cmdline:TEXT  kernel command line; must come last, may contain commas
 *
 * A malformed guest is reported (naming the guest and the key) and not
 * started; the other guests still start.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <keel/types.h>

#define MAX_GUESTS 16
#define CONFIG_MAX_ERRORS 8

struct guest_config {
	char name[16];
	char disk[32];
	char kernel[32];
	char ramdisk[32];
	char cmdline[256];
	uint64_t mem_bytes;
	unsigned vcpus;
	bool on_reset_restart;
	bool valid;
	char error[128];
};

struct keel_config {
	int loglevel;
	unsigned trace_entries;
	char seabios[32];
	char hvmloader[32];
	struct guest_config guests[MAX_GUESTS];
	unsigned nr_guests;
	unsigned nr_errors;
	char errors[CONFIG_MAX_ERRORS][128];
};

void config_defaults(struct keel_config *cfg);
void config_parse_cmdline(struct keel_config *cfg, const char *cmdline);

#endif
