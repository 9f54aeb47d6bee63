/*
 * keel-init: the whole userland of the Linux boot test's initramfs. As PID 1
 * it prints a marker with the kernel's release and the number of CPUs it
 * may run on on its console (ttyS0 by console=ttyS0), waits until the UART
 * has sent it all (the serial driver sends on THR-empty interrupts, so a
 * broken interrupt path shows here as a hang), then ends the guest through
 * QEMU's isa-debug-exit port 0xF4, which Keel emulates: ioperm(2) for that
 * one port, then OUTB. Keel has no ACPI power management, so
 * reboot(RB_POWER_OFF) would only halt the CPU.
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

void _start(void) __attribute__((noreturn, used));
void _start(void)
{
	static struct utsname u;
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
	say("keel-init: powering off through port 0xf4\n");
	end_guest("keel-init", EXIT_VALUE);
}
