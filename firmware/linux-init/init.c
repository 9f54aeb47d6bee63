/*
 * keel-init: the whole userland of the Linux boot test's initramfs. As PID 1
 * it prints a marker with the kernel's release and the number of CPUs it
 * may run on on its console (ttyS0 by console=ttyS0), waits until the UART
 * has sent it all (the serial driver sends on THR-empty interrupts, so a
 * broken interrupt path shows here as a hang), then ends the guest through
 * QEMU's isa-debug-exit port 0xF4, which Keel emulates: ioperm(2) for that
 * one port, then OUTB. With keel_poweroff=acpi on the kernel's command line
 * (which the kernel hands to init as an environment variable) it powers
 * off through ACPI instead, reboot(2) with LINUX_REBOOT_CMD_POWER_OFF: the
 * guest needs acpi:pm for that to end it (Keel ends it with status 0);
 * without ACPI power management the kernel would only halt the CPU. With
 * keel_reboot=1 it restarts the machine instead (reboot(2) with
 * LINUX_REBOOT_CMD_RESTART), and Keel restarts the guest: a reboot loop,
 * for chasing what only a kernel's restart path does (by hand; no test
 * runs it).
 *
 * x86-64 Linux only; no libc (built with -static -nostdlib): the system
 * calls are made directly.
 */
#include "linux_sys.h"

#define EXIT_VALUE 0x2a /* keel-run then exits with (0x2a << 1) | 1 = 85 */

static void say_number(unsigned long n)
{
	char buf[24];
	int i = sizeof(buf) - 1;
	buf[i] = 0;
	do
		buf[--i] = (char)('0' + n % 10);
	while ((n /= 10) && i > 0);
	say(buf + i);
}

/* The CPUs this process may run on: every online CPU, for PID 1. */
static unsigned long online_cpus(void)
{
	static unsigned long mask[16];
	long n = syscall3(SYS_sched_getaffinity, 0, sizeof(mask), (long)mask);
	unsigned long count = 0;
	for (long i = 0; i < n / (long)sizeof(mask[0]); i++)
		for (unsigned long m = mask[i]; m; m &= m - 1)
			count++;
	return count;
}

struct utsname {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

/* The process's first stack (argc, argv, NULL, envp, NULL) into C. */
__asm__(".globl _start\n"
	"_start:\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call init_main\n"
	"	hlt\n");

static int env_is(char **envp, const char *want)
{
	for (; *envp; envp++) {
		const char *a = *envp, *b = want;
		while (*a && *a == *b)
			a++, b++;
		if (!*a && !*b)
			return 1;
	}
	return 0;
}

void init_main(long *sp) __attribute__((noreturn, used));
void init_main(long *sp)
{
	static struct utsname u;
	char **envp = (char **)(sp + 1 + sp[0] + 1);
	say("keel-init: hello from PID 1\n");
	if (syscall3(SYS_uname, (long)&u, 0, 0) == 0) {
		say("keel-init: running on Linux ");
		say(u.release);
		say(" ");
		say(u.machine);
		say("\n");
	}
	say("keel-init: CPUs online: ");
	say_number(online_cpus());
	say("\n");
	if (env_is(envp, "keel_reboot=1")) {
		/* A reboot loop (the kernel's restart path, over and over:
		 * its IPIs and timers with two vCPUs are what hung once). */
		say("keel-init: rebooting\n");
		syscall3(SYS_ioctl, 1, TCSBRK, 1);
		syscall4(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART, 0);
		say("keel-init: FAIL the reboot returned\n");
	}
	if (env_is(envp, "keel_poweroff=acpi")) {
		say("keel-init: powering off through ACPI\n");
		syscall3(SYS_ioctl, 1, TCSBRK, 1);
		syscall4(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, 0);
		say("keel-init: FAIL the ACPI power-off returned\n");
	}
	say("keel-init: powering off through port 0xf4\n");
	end_guest("keel-init", EXIT_VALUE);
}
