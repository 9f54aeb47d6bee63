/*
 * Keel's command line: the words after keel.elf on GRUB's multiboot2 line
 * (GRUB drops the file name and has already dealt with any "..." quoting).
 *
 * Words are separated by blanks (space, tab, newline); each is key=value:
 *
 *   loglevel=0..3|err|warn|info|debug   how much Keel prints (default 2, info)
 *   trace=N            keep the last N VM exits per vCPU (0-4096; default 0 = off;
 *                      printed at a guest's stop and by the console's 'trace NAME')
 *   cpus=N             use at most N physical CPUs (1-64; default all that
 *                      the ACPI MADT lists, up to Keel's MAX_CPUS)
 *   seabios=MODULE     GRUB module holding SeaBIOS (default "seabios")
 *   hvmloader=MODULE   GRUB module holding hvmloader (default "hvmloader")
 *   serial=on|off      reserved: Keel's own output on COM1 (default on)
 *   verw=auto|on|off   VERW (MDS buffer clearing) before every VM entry:
 *                      auto (default) where the CPU is affected and offers
 *                      it (include/keel/spec.h); on: always (it also runs
 *                      the path on CPUs that do not need it); off: never
 *   apic=auto|xapic|x2apic  the host local APICs' mode (include/keel/apic_mode.h):
 *                      auto (default) follows the firmware and the MADT
 *   guest=SPEC         one guest; repeat for more (at most 16)
 *
 * MODULE is the first word of a module2 line's arguments, 1-31 characters.
 *
 * SPEC is a comma-separated list of key:value items (empty items are
 * ignored; each key at most once):
 *   name:NAME          1-15 characters of [A-Za-z0-9_-], unique among the
 *                      guests (default g<index>, index counting from 0)
 *   disk:MODULE        the module holding the guest's disk image
 *   kernel:MODULE      boot this kernel directly, without SeaBIOS: a
 *                      multiboot1 kernel (ELF32, or the a.out kludge) or a
 *                      Linux bzImage (boot protocol 2.10 or later); any
 *                      other module stops this guest with "guest NAME:
 *                      kernel module 'MODULE' is neither ..." (see
 *                      docs/boot-flow.md). No disk device is given to it.
 *   ramdisk:MODULE     needs kernel:; the multiboot1 module (its string is
 *                      MODULE) or Linux's initrd
 *   mem:SIZE           RAM: a decimal number with an optional suffix K, M or
 *                      G (no suffix = M); 8 MiB to 1024 GiB in whole 2 MiB
 *                      (default 32M). Up to 3.5 GiB sits below 4 GiB, the
 *                      rest from 4 GiB on (docs/boot-flow.md); the host must
 *                      have that much free, or the guest is not started
 *                      and Keel says how much there is
 *   lowmem:SIZE        at most this much of the RAM below 4 GiB, the rest
 *                      from 4 GiB on (like QEMU's max-ram-below-4g); 8M to
 *                      3584M in 2 MiB steps (default 3584M, where the MMIO
 *                      hole starts)
 *   vcpus:N            1-8 (default 1)
 *   on_reset:restart|stop   what a reset request from the guest does
 *                      (port 0xCF9 RST_CPU, 8042 command 0xFE, port 0x92
 *                      bit 0, a triple fault): restart it from scratch
 *                      (default; CMOS NVRAM 0x0E-0x7F survives, as a PC's
 *                      battery-backed CMOS does), or stop it
 *   cmdline:TEXT       needs kernel:; the kernel's command line, at most
 *                      511 characters: takes the rest of the word, commas
 *                      included, so it must be the last item. For blanks
 *                      in it, quote the whole word in grub.cfg
 *                      ('guest=...,cmdline:console=ttyS0 quiet'): GRUB
 *                      hands such a word over in double quotes, with \\,
 *                      \" and \' escaped, and Keel removes those again
 *                      (in any word: "..." keeps blanks, \X is X)
 *   unclaimed:complete|stop   what a load or store to a guest-physical
 *                      address where neither RAM nor a device answers
 *                      does: complete it as a PC's bus does when no
 *                      device claims the cycle (default: a read gives all
 *                      ones, a write is dropped; logged, rate-limited per
 *                      guest), or stop the guest. An access Keel cannot
 *                      decode, or an instruction fetch there, always
 *                      stops it
 *   testdev:on|off     QEMU's pc-testdev, the test device kvm-unit-tests
 *                      expects (hvm/dev/testdev.c, docs/devices.md): off by
 *                      default
 *   acpi:pm|basic      ACPI power management (hvm/dev/vpm.c, docs/devices.md):
 *                      with pm the guest's ACPI tables add a FADT, FACS
 *                      and DSDT, so its OS can power it off (S5: the
 *                      guest ends with status 0) or suspend it to RAM
 *                      (S3, woken by its RTC alarm). Default basic: the
 *                      MADT alone, with which an OS finds PCI by probing
 *   x2apic:on|off      whether the guest's local APICs offer x2APIC mode
 *                      (CPUID.1:ECX[21], IA32_APIC_BASE.EXTD, MSRs
 *                      0x800-0x8FF; docs/devices.md): on by default; off
 *                      gives an xAPIC only, as before
 *   selftest:bad-vmcs  test hook: start this guest with an invalid guest
 *                      state in its VMCS, to exercise the VM-entry failure
 *                      report
 * A guest needs exactly one of disk: and kernel:.
 *
 * Errors never stop the parse. A bad global word is recorded in errors[]
 * and skipped. A bad guest spec is still stored in guests[], in order, with
 * valid = false and the first problem in error[], which names the key and
 * value ("mem:2000G is out of range (8M to 1024G)") but not the guest: print it
 * as "guest <name>: <error>" (name is the given one if it was valid, else
 * the default). Other guests are unaffected. A 17th guest= is an error in
 * errors[] and is not stored.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <keel/types.h>

#define MAX_GUESTS 16
#define CONFIG_MAX_ERRORS 8
#define CONFIG_MAX_TRACE 4096
#define CONFIG_MAX_CPUS 64
#define GUEST_MEM_MIN MiB(8)
/* RAM beyond 3.5 GiB goes above 4 GiB (guest_ram.h); 1 TiB is what the
 * CMOS registers 0x5B-0x5D (64 KiB units, 24 bits) can describe above it. */
#define GUEST_MEM_MAX GiB(1024)
#define GUEST_MEM_DEFAULT MiB(32)
/* RAM below 4 GiB ends at the MMIO hole (HVMLOADER_LOW_RAM_LIMIT). */
#define GUEST_LOWMEM_MAX MiB(3584)
#define GUEST_MAX_VCPUS 8

struct guest_config {
	char name[16];
	char disk[32];
	char kernel[32];
	char ramdisk[32];
	char cmdline[512]; /* kvm-unit-tests' vmx test passes 401 characters */
	uint64_t mem_bytes;
	uint64_t lowmem_bytes; /* at most this much of mem_bytes below 4 GiB */
	unsigned vcpus;
	bool on_reset_restart;
	bool selftest_bad_vmcs;
	bool unclaimed_stop; /* unclaimed: stop rather than complete */
	bool testdev;
	bool acpi_pm;
	bool x2apic_off; /* x2apic:off: CPUID hides x2APIC, EXTD is reserved */
	bool valid;
	char error[128];
};

struct keel_config {
	int loglevel; /* 0 err, 1 warn, 2 info, 3 debug */
	unsigned trace_entries;
	unsigned max_cpus;
	char seabios[32];
	char hvmloader[32];
	bool serial;
	int verw; /* enum spec_verw_mode: 0 auto, 1 on, 2 off */
	int apic; /* enum apic_request: 0 auto, 1 xapic, 2 x2apic */
	bool no_apicv; /* apicv=off: no APIC virtualization even where offered */
	bool no_screen; /* screen=off: Keel's console on the serial port only */
	struct guest_config guests[MAX_GUESTS];
	unsigned nr_guests;
	unsigned guests_ignored; /* guest= words past MAX_GUESTS */
	unsigned nr_errors;
	char errors[CONFIG_MAX_ERRORS][128];
	unsigned errors_dropped; /* errors beyond CONFIG_MAX_ERRORS */
};

void config_defaults(struct keel_config *cfg);
/* Parses one command line into cfg (call config_defaults first); may be
 * called again to add to it. */
void config_parse_cmdline(struct keel_config *cfg, const char *cmdline);

#endif
