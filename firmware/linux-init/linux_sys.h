/*
 * What the slow tier's /init programs (init.c, regcheck.c) share: x86-64
 * Linux system calls made directly (no libc), text on the console, and
 * the end of the guest through QEMU's isa-debug-exit port 0xF4, which Keel
 * emulates (reboot(RB_POWER_OFF) needs the guest's acpi:pm: without ACPI
 * power management the kernel would only halt the CPU).
 */
#ifndef LINUX_INIT_LINUX_SYS_H
#define LINUX_INIT_LINUX_SYS_H

#define SYS_write 1
#define SYS_ioctl 16
#define SYS_exit 60
#define SYS_uname 63
#define SYS_ioperm 173
#define SYS_reboot 169
#define SYS_sched_getaffinity 204
#define SYS_clock_gettime 228
#define TCSBRK 0x5409 /* with argument 1: wait until the output is sent (tcdrain) */
#define EXIT_PORT 0xf4
#define LINUX_REBOOT_MAGIC1 0xfee1deadL
#define LINUX_REBOOT_MAGIC2 672274793L
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcL
#define LINUX_REBOOT_CMD_RESTART 0x01234567L

static long syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall4(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return ret;
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s) { syscall3(SYS_write, 1, (long)s, (long)len(s)); }

/* Waits until the UART has sent everything (its driver sends on THR-empty
 * interrupts, so a broken interrupt path shows here as a hang), then
 * writes `code` to port 0xF4: keel-run exits with (code << 1) | 1. */
static __attribute__((noreturn)) void end_guest(const char *who, unsigned char code)
{
	if (syscall3(SYS_ioperm, EXIT_PORT, 1, 1) == 0) {
		syscall3(SYS_ioctl, 1, TCSBRK, 1);
		__asm__ volatile("outb %0, %1" ::"a"(code), "Nd"((unsigned short)EXIT_PORT));
	}
	say(who);
	say(": FAIL ioperm or port 0xf4 did not end the guest\n");
	for (;;)
		syscall3(SYS_exit, 1, 0, 0);
}

#endif
